/** The console puts the API's own messages next to the field they name. */
import { describe, expect, it } from "vitest";
import { parseCreateRule } from "../../../orchestrator/rules/rule-schema.js";
import { parseCreateTask } from "../../../orchestrator/tasks/task-schema.js";
import { parseCreateTemplate } from "../../../orchestrator/templates/template-schema.js";
import { errorField } from "./field-error.js";

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("no error");
}

describe("errorField", () => {
  const opts = { fromQuery: false };
  it("finds the field of the server's validation messages", () => {
    expect(errorField(messageOf(() => parseCreateTemplate({ TemplateName: "t", FlvParam: { RecordInterval: 30 } }, opts)))).toBe("FlvParam.RecordInterval");
    expect(errorField(messageOf(() => parseCreateTemplate({ TemplateName: "bad name!" }, opts)))).toBe("TemplateName");
    expect(errorField(messageOf(() => parseCreateTemplate({}, opts)))).toBe("TemplateName");
    expect(errorField(messageOf(() => parseCreateTemplate({ TemplateName: "t", HlsSpecialParam: { FlowContinueDuration: 5000 } }, opts)))).toBe("HlsSpecialParam.FlowContinueDuration");
    expect(errorField(messageOf(() => parseCreateTemplate({ TemplateName: "t", Mp4Param: { VodFileName: "{Nope}" } }, opts)))).toBe("Mp4Param.VodFileName");
    expect(errorField(messageOf(() => parseCreateRule({ DomainName: "bad domain", TemplateId: 1 }, opts)))).toBe("DomainName");
    const now = 1_800_000_000;
    expect(errorField(messageOf(() => parseCreateTask({ DomainName: "a.b", AppName: "live", StreamName: "s", EndTime: now - 10 }, { ...opts, nowSec: now })))).toBe("EndTime");
  });

  it("names no field for other errors", () => {
    expect(errorField("wrong password")).toBeUndefined();
    expect(errorField("the request body is not valid JSON")).toBeUndefined();
  });
});
