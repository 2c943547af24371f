/**
 * The console compiles against wire-types.ts: these checks fail when what the
 * API sends drifts from it, and keep the module free of runtime code.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LiveControl } from "./live-control.js";
import type { LivePushStatus, LiveRecordingStatus, OnlineInfo } from "./wire-types.js";

/** OnlineInfo's keys; `satisfies` fails to compile when one is added to or dropped from the type. */
const ONLINE_INFO_KEYS = Object.keys({
  StreamName: 0,
  AppName: 0,
  DomainName: 0,
  PublishTimeList: 0,
  RemoteAddress: 0,
  UptimeSec: 0,
  BitrateKbps: 0,
  MatchedRule: 0,
  TemplateId: 0,
  Recordings: 0,
} satisfies Record<keyof OnlineInfo, 0>);

describe("wire types", () => {
  it("OnlineInfo is what DescribeLiveStreamOnlineList answers, key for key", async () => {
    const recording = { id: "r1", taskId: "", templateId: 3 } as LiveRecordingStatus;
    const push: LivePushStatus = {
      pushId: "p1",
      domain: "example.com",
      app: "live",
      stream: "cam1",
      remoteAddress: "10.0.0.1",
      startedAt: "2024-01-01T00:00:00.000Z",
      uptimeSec: 5,
      bitrateKbps: 900,
      matchedRule: "example.com/live/*",
      templateId: 3,
      recordings: [recording],
    };
    const live = new LiveControl({ livePushes: () => [push], dropPush: () => false }, () => ({ open: 1, pending: 0 }));
    const answer = (await live.describeOnline()) as { OnlineInfo: Record<string, unknown>[] };
    expect(Object.keys(answer.OnlineInfo[0]!).sort()).toEqual([...ONLINE_INFO_KEYS].sort());
    const expected: OnlineInfo = {
      StreamName: "cam1",
      AppName: "live",
      DomainName: "example.com",
      PublishTimeList: [{ PublishTime: "2024-01-01T00:00:00.000Z" }],
      RemoteAddress: "10.0.0.1",
      UptimeSec: 5,
      BitrateKbps: 900,
      MatchedRule: "example.com/live/*",
      TemplateId: 3,
      Recordings: [recording],
    };
    expect(answer.OnlineInfo[0]).toEqual(expected);
  });

  it("hold types only: every import and export is type-only, and nothing else is declared at run time", () => {
    const source = readFileSync(new URL("./wire-types.ts", import.meta.url), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const line of source.split("\n").filter((l) => /^(import|export)\b/.test(l))) {
      expect(line).toMatch(/^(import type|export type|export interface)\b/);
    }
    expect(source).not.toMatch(/^\s*(export\s+)?(const|let|var|function|class|enum)\b/m);
  });
});
