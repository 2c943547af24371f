/**
 * `recorder templates|rules|tasks ...`: the control API from the command
 * line, talking to a running server over the signed API (so it changes
 * state the same way every other client does). JSON or table output.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { ApiClient } from "./api-client.js";

interface GlobalOptions {
  endpoint: string;
  secretId?: string;
  secretKey?: string;
  json?: boolean;
}

const FORMATS = ["Flv", "Hls", "Mp4", "Aac"] as const;

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("must be a whole number");
  return n;
}

/** Unix seconds, or "+N" seconds from now. */
function time(value: string): number {
  const rel = /^\+(\d+)$/.exec(value);
  if (rel) return Math.floor(Date.now() / 1000) + Number(rel[1]);
  return integer(value);
}

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

function enabledFormats(t: Record<string, unknown>): string {
  return FORMATS.filter((f) => (t[`${f}Param`] as { Enable?: number } | undefined)?.Enable === 1)
    .map((f) => `${f.toLowerCase()}:${(t[`${f}Param`] as { RecordInterval: number }).RecordInterval}s`)
    .join(" ");
}

export function addControlCommands(program: Command): void {
  const withGlobals = (cmd: Command) =>
    cmd
      .addOption(new Option("--endpoint <url>", "the recorder's HTTP address").default("http://127.0.0.1:8080").env("RECORDER_ENDPOINT"))
      .addOption(new Option("--secret-id <id>", "API SecretId (when signatures are required)").env("RECORDER_SECRET_ID"))
      .addOption(new Option("--secret-key <key>", "API SecretKey").env("RECORDER_SECRET_KEY"))
      .option("--json", "print the API's JSON answer");

  const run =
    <A extends unknown[]>(fn: (client: ApiClient, ...args: A) => Promise<{ json: unknown; text: string }>) =>
    async (...args: A) => {
      const cmd = args.at(-1) as Command;
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const client = new ApiClient({ endpoint: g.endpoint, ...(g.secretId ? { secretId: g.secretId } : {}), ...(g.secretKey ? { secretKey: g.secretKey } : {}) });
      const out = await fn(client, ...args);
      process.stdout.write(`${g.json ? JSON.stringify(out.json, null, 2) : out.text}\n`);
    };

  const templates = withGlobals(program.command("templates").description("recording templates (CreateLiveRecordTemplate ...)"));
  templates.command("list").action(
    run(async (c) => {
      const r = await c.call("DescribeLiveRecordTemplates");
      const rows = (r.Templates as Record<string, unknown>[]).map((t) => ({ ...t, Formats: enabledFormats(t) }));
      return { json: r, text: table(rows, ["TemplateId", "TemplateName", "Formats", "Description"]) };
    }),
  );
  templates
    .command("create")
    .requiredOption("--name <name>", "TemplateName")
    .option("--description <text>", "Description")
    .option("--flv <seconds>", "record FLV, a file every <seconds>", integer)
    .option("--hls", "record HLS (one playlist per push)")
    .option("--mp4 <seconds>", "record MP4, a file every <seconds>", integer)
    .option("--aac <seconds>", "record AAC (audio only), a file every <seconds>", integer)
    .option("--flow-continue <seconds>", "HLS FlowContinueDuration (splice pushes within it)", integer)
    .action(
      run(async (c, o: { name: string; description?: string; flv?: number; hls?: boolean; mp4?: number; aac?: number; flowContinue?: number }) => {
        const params: Record<string, unknown> = { TemplateName: o.name };
        if (o.description !== undefined) params.Description = o.description;
        if (o.flv !== undefined) params.FlvParam = { Enable: 1, RecordInterval: o.flv };
        if (o.hls) params.HlsParam = { Enable: 1 };
        if (o.mp4 !== undefined) params.Mp4Param = { Enable: 1, RecordInterval: o.mp4 };
        if (o.aac !== undefined) params.AacParam = { Enable: 1, RecordInterval: o.aac };
        if (o.flowContinue !== undefined) params.HlsSpecialParam = { FlowContinueDuration: o.flowContinue };
        const r = await c.call("CreateLiveRecordTemplate", params);
        return { json: r, text: `created template ${r.TemplateId}` };
      }),
    );
  templates
    .command("delete")
    .argument("<templateId>", "TemplateId", integer)
    .action(
      run(async (c, id: number) => {
        const r = await c.call("DeleteLiveRecordTemplate", { TemplateId: id });
        return { json: r, text: `deleted template ${id}` };
      }),
    );

  const rules = withGlobals(program.command("rules").description("recording rules: which template records which streams"));
  rules.command("list").action(
    run(async (c) => {
      const r = await c.call("DescribeLiveRecordRules");
      return { json: r, text: table(r.Rules as Record<string, unknown>[], ["DomainName", "AppName", "StreamName", "TemplateId", "CreateTime"]) };
    }),
  );
  rules
    .command("create")
    .requiredOption("--domain <domain>", "DomainName")
    .option("--app <app>", "AppName (default: any)", "")
    .option("--stream <stream>", "StreamName (default: any)", "")
    .requiredOption("--template <id>", "TemplateId", integer)
    .action(
      run(async (c, o: { domain: string; app: string; stream: string; template: number }) => {
        const r = await c.call("CreateLiveRecordRule", { DomainName: o.domain, AppName: o.app, StreamName: o.stream, TemplateId: o.template });
        return { json: r, text: `created rule ${o.domain}/${o.app || "*"}/${o.stream || "*"} -> template ${o.template}` };
      }),
    );
  rules
    .command("delete")
    .requiredOption("--domain <domain>", "DomainName")
    .option("--app <app>", "AppName (exact; default empty)", "")
    .option("--stream <stream>", "StreamName (exact; default empty)", "")
    .action(
      run(async (c, o: { domain: string; app: string; stream: string }) => {
        const r = await c.call("DeleteLiveRecordRule", { DomainName: o.domain, AppName: o.app, StreamName: o.stream });
        return { json: r, text: `deleted rule ${o.domain}/${o.app || "*"}/${o.stream || "*"}` };
      }),
    );

  const tasks = withGlobals(program.command("tasks").description("record tasks: record a stream in a time window"));
  tasks
    .command("list")
    .option("--from <time>", "window start (unix s or +N)", time)
    .option("--to <time>", "window end (unix s or +N)", time)
    .option("--stream <stream>", "StreamName filter")
    .action(
      run(async (c, o: { from?: number; to?: number; stream?: string }) => {
        const now = Math.floor(Date.now() / 1000);
        const params: Record<string, unknown> = { StartTime: o.from ?? now - 86_400, EndTime: o.to ?? now + 6 * 86_400 };
        if (o.stream) params.StreamName = o.stream;
        const r = await c.call("DescribeRecordTask", params);
        const cols = ["TaskId", "DomainName", "AppName", "StreamName", "StartTime", "EndTime", "TemplateId", "Stopped"];
        return { json: r, text: table(r.TaskList as Record<string, unknown>[], cols) };
      }),
    );
  tasks
    .command("create")
    .requiredOption("--domain <domain>", "DomainName")
    .requiredOption("--app <app>", "AppName")
    .requiredOption("--stream <stream>", "StreamName")
    .requiredOption("--end <time>", "EndTime (unix s or +N seconds)", time)
    .option("--start <time>", "StartTime (unix s or +N; default now)", time)
    .option("--template <id>", "TemplateId (default: HLS)", integer)
    .action(
      run(async (c, o: { domain: string; app: string; stream: string; end: number; start?: number; template?: number }) => {
        const params: Record<string, unknown> = { DomainName: o.domain, AppName: o.app, StreamName: o.stream, EndTime: o.end };
        if (o.start !== undefined) params.StartTime = o.start;
        if (o.template !== undefined) params.TemplateId = o.template;
        const r = await c.call("CreateRecordTask", params);
        return { json: r, text: `created task ${r.TaskId}` };
      }),
    );
  for (const [name, action] of [
    ["stop", "StopRecordTask"],
    ["delete", "DeleteRecordTask"],
  ] as const) {
    tasks
      .command(name)
      .argument("<taskId>", "TaskId")
      .action(
        run(async (c, id: string) => {
          const r = await c.call(action, { TaskId: id });
          return { json: r, text: `${name === "stop" ? "stopped" : "deleted"} task ${id}` };
        }),
      );
  }
}
