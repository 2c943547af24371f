/**
 * Validation of the recording-rule actions (spec §2.1 CreateLiveRecordRule,
 * §2.2 DeleteLiveRecordRule), plus the domain-name and stream-name rules the
 * task actions share. Pure: untrusted input in, typed values or ApiError out.
 *
 * Choices where the spec is silent:
 * - DomainName must be a host name (LDH labels of 1-63 characters that neither
 *   start nor end with "-", at most 253 characters, no trailing dot) or a
 *   dotted-quad IPv4 address; it is lowercased. A name whose labels are all
 *   digits must be a valid IPv4 address ("999.1.1.1" is refused). An empty
 *   DomainName is a format error, not a wildcard: the field is required.
 * - AppName / StreamName become folder names, so beyond "" (wildcard) they
 *   must pass `isSafeNameComponent` (1-128 characters of A-Z a-z 0-9 . _ ~ -,
 *   not "." or "..").
 */
import { SAFE_NAME_MAX_LENGTH, isSafeNameComponent } from "../../engine/segment/naming.js";
import { fieldError, Input, type InputOptions } from "../control/input.js";
import type { RecordRuleInput } from "./types.js";

/** RFC 1035 / 1123 limits. */
export const DOMAIN_NAME_MAX_LENGTH = 253;
const DOMAIN_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_OCTET_RE = /^(0|[1-9][0-9]{0,2})$/;

const DOMAIN_RULE = `must be a host name (labels of letters, digits and "-", 1-63 characters each, at most ${DOMAIN_NAME_MAX_LENGTH} in all) or an IPv4 address`;
const NAME_RULE = `must be 1-${SAFE_NAME_MAX_LENGTH} characters from A-Z a-z 0-9 . _ ~ - (not "." or "..")`;

/** Whether `name` (already lowercased) is a host name or an IPv4 address, as DomainName must be. */
export function isValidDomainName(name: string): boolean {
  if (name.length === 0 || name.length > DOMAIN_NAME_MAX_LENGTH) return false;
  const labels = name.split(".");
  if (!labels.every((l) => DOMAIN_LABEL_RE.test(l))) return false;
  if (labels.every((l) => /^[0-9]+$/.test(l))) {
    return labels.length === 4 && labels.every((l) => IPV4_OCTET_RE.test(l) && Number(l) <= 255);
  }
  return true;
}

/**
 * Reads a DomainName field: lowercased; a String that is not a host name is
 * InvalidParameter.DomainFormatError (spec §2.1, §8).
 */
export function readDomainName(input: Input, name: string, opts: { required: true }): string;
export function readDomainName(input: Input, name: string, opts?: { required?: boolean }): string | undefined;
export function readDomainName(input: Input, name: string, opts: { required?: boolean } = {}): string | undefined {
  const raw = input.string(name, { required: opts.required ?? false });
  if (raw === undefined) return undefined;
  const lower = raw.toLowerCase();
  if (!isValidDomainName(lower)) throw fieldError("InvalidParameter.DomainFormatError", input.path(name), DOMAIN_RULE, raw);
  return lower;
}

/**
 * Reads an AppName / StreamName field. `allowEmpty`: "" is accepted (the
 * wildcard of rules); otherwise the name must be a safe folder name
 * (InvalidParameterValue).
 */
export function readStreamPart(input: Input, name: string, opts: { required: true; allowEmpty: boolean }): string;
export function readStreamPart(
  input: Input,
  name: string,
  opts: { required?: boolean; allowEmpty: boolean },
): string | undefined;
export function readStreamPart(
  input: Input,
  name: string,
  opts: { required?: boolean; allowEmpty: boolean },
): string | undefined {
  const value = input.string(name, { required: opts.required ?? false });
  if (value === undefined) return undefined;
  if (value === "" && opts.allowEmpty) return "";
  if (!isSafeNameComponent(value)) {
    throw fieldError("InvalidParameterValue", input.path(name), opts.allowEmpty ? `${NAME_RULE}, or "" for any` : NAME_RULE, value);
  }
  return value;
}

/** spec §2.1 CreateLiveRecordRule. AppName / StreamName default to "" (wildcard). */
export function parseCreateRule(raw: unknown, opts: InputOptions): RecordRuleInput {
  const input = new Input(raw, opts);
  input.rejectUnknown(["DomainName", "TemplateId", "AppName", "StreamName"]);
  const DomainName = readDomainName(input, "DomainName", { required: true });
  const TemplateId = input.integer("TemplateId", { required: true, min: 1 });
  const AppName = readStreamPart(input, "AppName", { allowEmpty: true }) ?? "";
  const StreamName = readStreamPart(input, "StreamName", { allowEmpty: true }) ?? "";
  return { DomainName, AppName, StreamName, TemplateId };
}

/**
 * spec §2.2 DeleteLiveRecordRule: Domain + AppName + StreamName name one rule
 * exactly. AppName / StreamName default to "" (which matches only a rule
 * stored with "", never every rule).
 */
export function parseDeleteRule(
  raw: unknown,
  opts: InputOptions,
): { DomainName: string; AppName: string; StreamName: string } {
  const input = new Input(raw, opts);
  input.rejectUnknown(["DomainName", "AppName", "StreamName"]);
  const DomainName = readDomainName(input, "DomainName", { required: true });
  const AppName = readStreamPart(input, "AppName", { allowEmpty: true }) ?? "";
  const StreamName = readStreamPart(input, "StreamName", { allowEmpty: true }) ?? "";
  return { DomainName, AppName, StreamName };
}
