/** spec §3.5 RecordTask, plus what the service keeps to run it. */
export interface RecordTask {
  TaskId: string;
  DomainName: string;
  AppName: string;
  StreamName: string;
  /** Unix seconds. */
  StartTime: number;
  /** Unix seconds. */
  EndTime: number;
  /** 0 when none was given (the task then records HLS, spec §3.1). */
  TemplateId: number;
  /** Unix seconds StopRecordTask was called; 0 = never stopped. */
  Stopped: number;
  StreamType: 0 | 1;
  Extension: string;
}

export type RecordTaskInput = Omit<RecordTask, "TaskId" | "Stopped">;

/** spec §6: at most this many tasks of one stream may overlap. */
export const MAX_OVERLAPPING_TASKS = 3;
