/** spec §2: a rule binds a template to a domain / app / stream ("" = wildcard for app and stream). */
export interface RecordRule {
  DomainName: string;
  AppName: string;
  StreamName: string;
  TemplateId: number;
  /** Beijing time strings "YYYY-MM-DD HH:mm:ss", as the cloud returns them (spec §2.3). */
  CreateTime: string;
  UpdateTime: string;
}

export type RecordRuleInput = Pick<RecordRule, "DomainName" | "AppName" | "StreamName" | "TemplateId">;
