import { describe, expect, it } from "vitest";
import { flattenedQueryToObject } from "../control/input.js";
import { parseCreateTask, parseDescribeTasks, parseTaskId } from "./task-schema.js";

const NOW = 1_700_000_000;
const POST = { fromQuery: false, nowSec: NOW };
const GET = { fromQuery: true, nowSec: NOW };
const code = (c: string) => expect.objectContaining({ code: c });
const q = (s: string) => flattenedQueryToObject(new URLSearchParams(s));
const base = { StreamName: "cam1", DomainName: "push.example.com", AppName: "live" };
const task = (body: Record<string, unknown>) => parseCreateTask({ ...base, ...body }, POST);

describe("parseCreateTask: happy paths", () => {
  it("a real-time task: StartTime defaults to now, other defaults filled", () => {
    expect(task({ EndTime: NOW + 600 })).toEqual({
      ...base,
      StartTime: NOW,
      EndTime: NOW + 600,
      StreamType: 0,
      TemplateId: 0,
      Extension: "",
    });
  });

  it("a scheduled task with every field, from a GET query", () => {
    const t = parseCreateTask(
      q(`StreamName=cam1&DomainName=Push.Example.com&AppName=live&StartTime=${NOW + 3600}&EndTime=${NOW + 7200}&StreamType=1&TemplateId=9&Extension=x`),
      GET,
    );
    expect(t).toEqual({ ...base, StartTime: NOW + 3600, EndTime: NOW + 7200, StreamType: 1, TemplateId: 9, Extension: "x" });
  });

  it("drops a fraction of nowSec", () => {
    expect(parseCreateTask({ ...base, EndTime: NOW + 10 }, { fromQuery: false, nowSec: NOW + 0.9 }).StartTime).toBe(NOW);
  });

  it("accepts the window edges: 24 h long, end just under now + 7 days, start 60 s ago", () => {
    expect(task({ StartTime: NOW + 6 * 86400 - 1, EndTime: NOW + 7 * 86400 - 1 }).EndTime).toBe(NOW + 7 * 86400 - 1);
    expect(task({ StartTime: NOW, EndTime: NOW + 86400 }).EndTime).toBe(NOW + 86400);
    expect(task({ StartTime: NOW - 60, EndTime: NOW + 60 }).StartTime).toBe(NOW - 60);
  });
});

describe("parseCreateTask: refusals", () => {
  for (const field of ["StreamName", "DomainName", "AppName"] as const) {
    it(`MissingParameter without ${field}`, () => {
      const body: Record<string, unknown> = { ...base, EndTime: NOW + 60 };
      delete body[field];
      expect(() => parseCreateTask(body, POST)).toThrow(code("MissingParameter"));
    });
  }

  it("MissingParameter without EndTime", () => {
    expect(() => task({})).toThrow(code("MissingParameter"));
  });

  it("InvalidParameterValue for an empty or unsafe StreamName / AppName", () => {
    for (const bad of ["", "..", "a/b", "a b"]) {
      expect(() => task({ StreamName: bad, EndTime: NOW + 60 })).toThrow(code("InvalidParameterValue"));
      expect(() => task({ AppName: bad, EndTime: NOW + 60 })).toThrow(code("InvalidParameterValue"));
    }
  });

  it("InvalidParameter.DomainFormatError for a malformed domain", () => {
    expect(() => task({ DomainName: "not a domain", EndTime: NOW + 60 })).toThrow(code("InvalidParameter.DomainFormatError"));
  });

  it("InvalidParameter for EndTime as a JSON string or a fraction", () => {
    expect(() => task({ EndTime: String(NOW + 60) })).toThrow(code("InvalidParameter"));
    expect(() => task({ EndTime: NOW + 60.5 })).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameterValue for a negative time", () => {
    expect(() => task({ StartTime: -1, EndTime: NOW + 60 })).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue when EndTime is not after StartTime", () => {
    expect(() => task({ StartTime: NOW + 100, EndTime: NOW + 100 })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ StartTime: NOW + 100, EndTime: NOW + 100 })).toThrow(/EndTime must be later than StartTime/);
  });

  it("InvalidParameterValue when EndTime is not after now", () => {
    expect(() => task({ StartTime: NOW - 30, EndTime: NOW })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ StartTime: NOW - 30, EndTime: NOW })).toThrow(/later than now/);
  });

  it("InvalidParameterValue when EndTime is not before now + 7 days", () => {
    expect(() => task({ StartTime: NOW + 6 * 86400, EndTime: NOW + 7 * 86400 })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ StartTime: NOW + 6 * 86400, EndTime: NOW + 7 * 86400 })).toThrow(/now \+ 7 days/);
  });

  it("InvalidParameterValue when the task is longer than 24 h", () => {
    expect(() => task({ StartTime: NOW, EndTime: NOW + 86401 })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ EndTime: NOW + 86401 })).toThrow(/at most 24 h/);
  });

  it("InvalidParameterValue when StartTime is more than 60 s in the past", () => {
    expect(() => task({ StartTime: NOW - 61, EndTime: NOW + 60 })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ StartTime: NOW - 61, EndTime: NOW + 60 })).toThrow(/StartTime must not be earlier than now - 60 s/);
  });

  it("InvalidParameterValue for StreamType outside 0/1", () => {
    expect(() => task({ EndTime: NOW + 60, StreamType: 2 })).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue for a negative TemplateId", () => {
    expect(() => task({ EndTime: NOW + 60, TemplateId: -1 })).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue for an Extension over 256 characters, InvalidParameter for a non-string", () => {
    expect(task({ EndTime: NOW + 60, Extension: "e".repeat(256) }).Extension).toHaveLength(256);
    expect(() => task({ EndTime: NOW + 60, Extension: "e".repeat(257) })).toThrow(code("InvalidParameterValue"));
    expect(() => task({ EndTime: NOW + 60, Extension: { a: 1 } })).toThrow(code("InvalidParameter"));
  });

  it("UnknownParameter for other fields", () => {
    expect(() => task({ EndTime: NOW + 60, Highlight: 1 })).toThrow(code("UnknownParameter"));
  });

  it("InvalidParameter for a non-decimal integer in query mode", () => {
    expect(() => parseCreateTask(q(`StreamName=a&DomainName=d.com&AppName=live&EndTime=${NOW + 60}.0`), GET)).toThrow(code("InvalidParameter"));
  });
});

describe("parseTaskId", () => {
  it("reads a task id from POST and GET", () => {
    expect(parseTaskId({ TaskId: "UpTbk5RSVhRQ-0xTSlNTQl_tlRVRLU1JAWW9EUb" }, POST)).toBe("UpTbk5RSVhRQ-0xTSlNTQl_tlRVRLU1JAWW9EUb");
    expect(parseTaskId(q("TaskId=abc"), GET)).toBe("abc");
  });

  it("MissingParameter when absent", () => {
    expect(() => parseTaskId({}, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameterValue for empty, over 128 characters or other characters", () => {
    for (const bad of ["", "x".repeat(129), "a/b", "a.b", "a b"]) {
      expect(() => parseTaskId({ TaskId: bad }, POST)).toThrow(code("InvalidParameterValue"));
    }
    expect(parseTaskId({ TaskId: "x".repeat(128) }, POST)).toHaveLength(128);
  });

  it("InvalidParameter for a number, UnknownParameter for other fields", () => {
    expect(() => parseTaskId({ TaskId: 5 }, POST)).toThrow(code("InvalidParameter"));
    expect(() => parseTaskId({ TaskId: "a", Force: true }, POST)).toThrow(code("UnknownParameter"));
  });
});

describe("parseDescribeTasks", () => {
  it("reads the window and the filters; empty filters are dropped", () => {
    expect(parseDescribeTasks({ StartTime: NOW - 3600, EndTime: NOW }, POST)).toEqual({ StartTime: NOW - 3600, EndTime: NOW });
    expect(
      parseDescribeTasks(
        q(`StartTime=${NOW - 3600}&EndTime=${NOW}&StreamName=cam1&DomainName=D.com&AppName=&ScrollToken=eyJ0IjoxfQ==`),
        GET,
      ),
    ).toEqual({ StartTime: NOW - 3600, EndTime: NOW, StreamName: "cam1", DomainName: "d.com", ScrollToken: "eyJ0IjoxfQ==" });
  });

  it("accepts the edges: 90 days back, a 7-day span", () => {
    expect(parseDescribeTasks({ StartTime: NOW - 90 * 86400, EndTime: NOW - 83 * 86400 }, POST).EndTime).toBe(NOW - 83 * 86400);
  });

  it("MissingParameter without StartTime or EndTime", () => {
    expect(() => parseDescribeTasks({ EndTime: NOW }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseDescribeTasks({ StartTime: NOW }, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameterValue when StartTime is earlier than now - 90 days", () => {
    expect(() => parseDescribeTasks({ StartTime: NOW - 90 * 86400 - 1, EndTime: NOW - 89 * 86400 }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue when EndTime is not after StartTime", () => {
    expect(() => parseDescribeTasks({ StartTime: NOW, EndTime: NOW }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue when the span exceeds 7 days", () => {
    expect(() => parseDescribeTasks({ StartTime: NOW - 8 * 86400, EndTime: NOW - 86400 + 1 }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameter for times given as JSON strings", () => {
    expect(() => parseDescribeTasks({ StartTime: String(NOW - 60), EndTime: NOW }, POST)).toThrow(code("InvalidParameter"));
  });

  it("validates non-empty filters", () => {
    const w = { StartTime: NOW - 60, EndTime: NOW };
    expect(() => parseDescribeTasks({ ...w, DomainName: "bad domain" }, POST)).toThrow(code("InvalidParameter.DomainFormatError"));
    expect(() => parseDescribeTasks({ ...w, StreamName: "../x" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeTasks({ ...w, ScrollToken: "a b" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeTasks({ ...w, ScrollToken: "t".repeat(513) }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeTasks({ ...w, Limit: 10 }, POST)).toThrow(code("UnknownParameter"));
  });
});
