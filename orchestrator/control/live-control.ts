/**
 * Live control: the pushes on air and what each records (the cloud's
 * DescribeLiveStreamOnlineList, with our details) and DropLiveStream.
 */
import { ApiError } from "./api-error.js";
import type { LivePushStatus } from "./wire-types.js";

/** Whoever supervises the live pushes. */
export interface LivePushes {
  livePushes(): LivePushStatus[];
  /** Disconnects a publisher; false when that stream is not being pushed. */
  dropPush(domain: string, app: string, stream: string): boolean;
}

/** RTMP connections open, and those of them not publishing yet. */
export interface RtmpConnectionCounts {
  open: number;
  pending: number;
}

export class LiveControl {
  constructor(
    private readonly pushes: LivePushes,
    /** The ingest's connection counts (for /healthz: a flood shows as many pending). */
    readonly connections: () => RtmpConnectionCounts,
  ) {}

  /** Every live push, for /status and the console. */
  list(): LivePushStatus[] {
    return this.pushes.livePushes();
  }

  async describeOnline(): Promise<object> {
    const pushes = this.list();
    return {
      TotalNum: pushes.length,
      TotalPage: 1,
      PageNum: 1,
      PageSize: pushes.length,
      OnlineInfo: pushes.map((p) => ({
        StreamName: p.stream,
        AppName: p.app,
        DomainName: p.domain,
        PublishTimeList: [{ PublishTime: p.startedAt }],
        RemoteAddress: p.remoteAddress,
        UptimeSec: p.uptimeSec,
        BitrateKbps: p.bitrateKbps,
        MatchedRule: p.matchedRule,
        TemplateId: p.templateId,
        Recordings: p.recordings,
      })),
    };
  }

  async drop(stream: { DomainName: string; AppName: string; StreamName: string }): Promise<Record<string, never>> {
    const { DomainName, AppName, StreamName } = stream;
    if (!this.pushes.dropPush(DomainName.toLowerCase(), AppName, StreamName)) {
      throw new ApiError("ResourceNotFound.StreamNotAlive", `${DomainName}/${AppName}/${StreamName} is not being pushed`);
    }
    return {};
  }
}
