/**
 * Readers for untrusted action input (spec §0). A request's parameters arrive
 * either as a POST JSON body (numbers are numbers, booleans are booleans) or
 * as a GET/form query string flattened as `Struct.Field=value`, where every
 * leaf is a string. `Input` reads both the same way and throws `ApiError`
 * with the cloud's error code on the first bad field:
 *
 * - absent required field                                 -> MissingParameter
 * - wrong type (a JSON string for an Integer, 1.5, NaN,
 *   an object where a string is expected; in query mode an
 *   integer not matching /^-?\d+$/, a boolean other than
 *   "true" / "false" / "1" / "0")                         -> InvalidParameter
 * - value out of range / not allowed                      -> InvalidParameterValue
 * - a field the action does not define                    -> UnknownParameter
 *
 * Pure: no I/O, no clock. Choices where the spec is silent:
 * - a JSON `null` counts as an absent field (so a required field given as null
 *   is MissingParameter);
 * - string lengths count Unicode code points, not UTF-16 units;
 * - in query mode a repeated key, a key that is both a value and a struct
 *   (`A=1&A.B=2`) and array indices that are not 0..n-1 without leading zeros
 *   are InvalidParameter.
 */
import { ApiError, type ApiErrorCode } from "./api-error.js";

export interface InputOptions {
  /** true: the values come from a flattened query string (all leaves are strings). */
  fromQuery: boolean;
}

/** Most `.`-separated parts a query key may have (`Struct.Field` has 2; `List.0.Field` has 3). */
export const MAX_QUERY_KEY_DEPTH = 3;
/** Most parameters one query string may carry. */
export const MAX_QUERY_KEYS = 200;
/** How much of a bad value an error message quotes. */
export const SHOWN_VALUE_MAX_CHARS = 64;

/**
 * Common parameters of the signed GET/form protocol (Tencent Cloud API v1
 * signature). They are not action fields: the HTTP layer strips them before
 * handing the rest to a schema, whose `rejectUnknown` would refuse them.
 */
export const COMMON_QUERY_PARAMETERS: readonly string[] = [
  "Action",
  "Version",
  "Region",
  "Timestamp",
  "Nonce",
  "SecretId",
  "Signature",
  "SignatureMethod",
  "Token",
  "Language",
  "RequestClient",
];

const QUERY_KEY_RE = /^[A-Za-z0-9_.]+$/;
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const INDEX_RE = /^[0-9]+$/; // any all-digit part is a list index; 0..n-1 without leading zeros is checked later
const QUERY_INTEGER_RE = /^-?\d+$/;

/** Quotes a bad value for an error message, cut to SHOWN_VALUE_MAX_CHARS characters. */
export function showValue(value: unknown): string {
  if (typeof value === "string") {
    const cut = value.length > SHOWN_VALUE_MAX_CHARS ? `${value.slice(0, SHOWN_VALUE_MAX_CHARS)}...` : value;
    return JSON.stringify(cut);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    const text = String(value);
    return text.length > SHOWN_VALUE_MAX_CHARS ? `${text.slice(0, SHOWN_VALUE_MAX_CHARS)}...` : text;
  }
  return typeof value;
}

/** `"<field> <rule>; got <value>"`, the one message shape of every field error. */
export function fieldError(code: ApiErrorCode, field: string, rule: string, value: unknown): ApiError {
  return new ApiError(code, `${field} ${rule}; got ${showValue(value)}`);
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

type Node = Record<string, unknown>;

function newNode(): Node {
  return Object.create(null) as Node;
}

function isPlainObject(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Turns `{ "0": a, "1": b }` nodes into arrays, recursively; refuses gaps and mixed keys. */
function arraysFromIndexNodes(node: Node, path: string): unknown {
  const keys = Object.keys(node);
  for (const key of keys) {
    const child = node[key];
    if (isPlainObject(child)) node[key] = arraysFromIndexNodes(child, path === "" ? key : `${path}.${key}`);
  }
  const indexKeys = keys.filter((k) => INDEX_RE.test(k));
  if (indexKeys.length === 0) return node;
  if (path === "") throw new ApiError("InvalidParameter", "query parameter names must not start with a list index");
  if (indexKeys.length !== keys.length) {
    throw new ApiError("InvalidParameter", `query parameter ${path} mixes list indices and field names`);
  }
  const list: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (!Object.hasOwn(node, String(i))) {
      throw new ApiError("InvalidParameter", `query list ${path} must use the indices 0 to ${keys.length - 1} without gaps`);
    }
    list.push(node[String(i)]);
  }
  return list;
}

/**
 * Rebuilds the nested request object from a flattened query string:
 * `Mp4Param.Enable=1` -> `{ Mp4Param: { Enable: "1" } }`, `Field.0=a&Field.1=b`
 * -> `{ Field: ["a", "b"] }`. Leaves stay strings; `Input` converts them.
 * Refuses (InvalidParameter) more than MAX_QUERY_KEYS parameters, keys deeper
 * than MAX_QUERY_KEY_DEPTH parts, keys outside [A-Za-z0-9_.] or with empty
 * parts, the parts "__proto__" / "constructor" / "prototype", repeated keys and
 * a key used both as a value and as a struct.
 */
export function flattenedQueryToObject(params: URLSearchParams): Record<string, unknown> {
  const root = newNode();
  let count = 0;
  for (const [key, value] of params) {
    count++;
    if (count > MAX_QUERY_KEYS) {
      throw new ApiError("InvalidParameter", `a request may carry at most ${MAX_QUERY_KEYS} query parameters`);
    }
    if (!QUERY_KEY_RE.test(key)) {
      throw fieldError("InvalidParameter", "query parameter name", "must use only A-Z a-z 0-9 _ and .", key);
    }
    const parts = key.split(".");
    if (parts.length > MAX_QUERY_KEY_DEPTH) {
      throw fieldError("InvalidParameter", "query parameter name", `must have at most ${MAX_QUERY_KEY_DEPTH} levels`, key);
    }
    if (parts.some((p) => p === "")) {
      throw fieldError("InvalidParameter", "query parameter name", "must not have empty parts", key);
    }
    if (parts.some((p) => RESERVED_KEYS.has(p))) {
      throw fieldError("InvalidParameter", "query parameter name", "must not use __proto__, constructor or prototype", key);
    }
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const next = node[part];
      if (next === undefined) {
        const created = newNode();
        node[part] = created;
        node = created;
      } else if (isPlainObject(next)) {
        node = next;
      } else {
        throw fieldError("InvalidParameter", "query parameter", "is given both as a value and as a struct", key);
      }
    }
    const leaf = parts[parts.length - 1]!;
    if (node[leaf] !== undefined) {
      const what = isPlainObject(node[leaf]) ? "is given both as a value and as a struct" : "is given more than once";
      throw fieldError("InvalidParameter", "query parameter", what, key);
    }
    node[leaf] = value;
  }
  return arraysFromIndexNodes(root, "") as Record<string, unknown>;
}

export interface StringOptions {
  required?: boolean;
  default?: string;
  /** Code points; checked before `pattern`. */
  minLength?: number;
  /** Code points. */
  maxLength?: number;
  pattern?: RegExp;
  /** Describes `pattern` in the error message ("must use only ..."). */
  patternHint?: string;
}

export interface IntegerOptions {
  required?: boolean;
  default?: number;
  min?: number;
  max?: number;
}

export interface BooleanOptions {
  required?: boolean;
  default?: boolean;
}

export interface EnumOptions<T extends number> {
  required?: boolean;
  default?: T;
}

type IsRequired = { required: true };
type Defaulted<T> = { default: T };

/**
 * Reads the fields of one request object (or one nested struct of it). Each
 * reader returns the typed value, the default, or undefined when the field is
 * absent and optional; it throws ApiError otherwise.
 */
export class Input {
  private readonly obj: Node;
  private readonly fromQuery: boolean;
  private readonly prefix: string;

  /**
   * @param obj the parsed JSON body, or `flattenedQueryToObject(...)` output.
   * @param prefix the field path of this struct, for messages ("Mp4Param").
   */
  constructor(obj: unknown, opts: InputOptions, prefix = "") {
    if (!isPlainObject(obj)) {
      throw new ApiError(
        "InvalidParameter",
        prefix === "" ? `the request parameters must be a JSON object; got ${showValue(obj)}` : `${prefix} must be an object; got ${showValue(obj)}`,
      );
    }
    this.obj = obj;
    this.fromQuery = opts.fromQuery;
    this.prefix = prefix;
  }

  /** The full field path of `name`, as error messages print it. */
  path(name: string): string {
    return this.prefix === "" ? name : `${this.prefix}.${name}`;
  }

  /** Whether the field is given (a JSON null counts as not given). */
  has(name: string): boolean {
    return Object.hasOwn(this.obj, name) && this.obj[name] !== null && this.obj[name] !== undefined;
  }

  /** Throws UnknownParameter for the first field not in `allowed`. */
  rejectUnknown(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) {
        const shown = key.length > SHOWN_VALUE_MAX_CHARS ? `${key.slice(0, SHOWN_VALUE_MAX_CHARS)}...` : key;
        throw new ApiError(
          "UnknownParameter",
          `unknown parameter ${JSON.stringify(this.path(shown))}; allowed: ${allowed.length === 0 ? "none" : allowed.join(", ")}`,
        );
      }
    }
  }

  /** Throws MissingParameter when a required field is absent; returns the raw value or undefined. */
  private raw(name: string, required: boolean | undefined): unknown {
    if (this.has(name)) return this.obj[name];
    if (required) throw new ApiError("MissingParameter", `missing required parameter ${this.path(name)}`);
    return undefined;
  }

  string(name: string, opts: StringOptions & (IsRequired | Defaulted<string>)): string;
  string(name: string, opts?: StringOptions): string | undefined;
  string(name: string, opts: StringOptions = {}): string | undefined {
    const value = this.raw(name, opts.required);
    if (value === undefined) return opts.default;
    const field = this.path(name);
    if (typeof value !== "string") throw fieldError("InvalidParameter", field, "must be a String", value);
    if (opts.minLength !== undefined || opts.maxLength !== undefined) {
      const min = opts.minLength ?? 0;
      const max = opts.maxLength ?? Number.POSITIVE_INFINITY;
      // A UTF-16 length above 2 * max means at least max + 1 code points: no need to count.
      const length = value.length > 2 * max ? value.length : codePointLength(value);
      if (length < min || length > max) {
        const rule =
          opts.maxLength === undefined
            ? `must have at least ${min} characters`
            : `must have ${min} to ${max} characters`;
        throw fieldError("InvalidParameterValue", field, rule, value);
      }
    }
    if (opts.pattern !== undefined && !opts.pattern.test(value)) {
      throw fieldError("InvalidParameterValue", field, opts.patternHint ?? `must match ${String(opts.pattern)}`, value);
    }
    return value;
  }

  /** An array of strings (`Field.0=a&Field.1=b` in a query), each checked like `string`. */
  stringList(name: string, opts: { maxItems: number; item?: StringOptions }): string[] | undefined {
    const value = this.raw(name, false);
    if (value === undefined) return undefined;
    const field = this.path(name);
    if (!Array.isArray(value)) throw fieldError("InvalidParameter", field, "must be an Array of String", value);
    if (value.length > opts.maxItems) throw fieldError("InvalidParameterValue", field, `must have at most ${opts.maxItems} items`, value);
    const items = new Input(Object.fromEntries(value.map((v, i) => [String(i), v as unknown])), { fromQuery: this.fromQuery }, field);
    return value.map((_, i) => items.string(String(i), { ...opts.item, required: true }));
  }

  integer(name: string, opts: IntegerOptions & (IsRequired | Defaulted<number>)): number;
  integer(name: string, opts?: IntegerOptions): number | undefined;
  integer(name: string, opts: IntegerOptions = {}): number | undefined {
    const value = this.raw(name, opts.required);
    if (value === undefined) return opts.default;
    const n = this.toInteger(name, value);
    const { min, max } = opts;
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      const rule =
        min !== undefined && max !== undefined
          ? `must be an integer from ${min} to ${max}`
          : min !== undefined
            ? `must be an integer of at least ${min}`
            : `must be an integer of at most ${max}`;
      throw fieldError("InvalidParameterValue", this.path(name), rule, value);
    }
    return n;
  }

  integerEnum<T extends number>(name: string, allowed: readonly T[], opts: EnumOptions<T> & (IsRequired | Defaulted<T>)): T;
  integerEnum<T extends number>(name: string, allowed: readonly T[], opts?: EnumOptions<T>): T | undefined;
  integerEnum<T extends number>(name: string, allowed: readonly T[], opts: EnumOptions<T> = {}): T | undefined {
    const value = this.raw(name, opts.required);
    if (value === undefined) return opts.default;
    const n = this.toInteger(name, value);
    const match = allowed.find((a) => a === n);
    if (match === undefined) {
      throw fieldError("InvalidParameterValue", this.path(name), `must be one of ${allowed.join(", ")}`, value);
    }
    return match;
  }

  boolean(name: string, opts: BooleanOptions & (IsRequired | Defaulted<boolean>)): boolean;
  boolean(name: string, opts?: BooleanOptions): boolean | undefined;
  boolean(name: string, opts: BooleanOptions = {}): boolean | undefined {
    const value = this.raw(name, opts.required);
    if (value === undefined) return opts.default;
    if (typeof value === "boolean") return value;
    if (this.fromQuery && typeof value === "string") {
      if (value === "true" || value === "1") return true;
      if (value === "false" || value === "0") return false;
    }
    const expected = this.fromQuery ? 'must be a Boolean ("true", "false", "1" or "0")' : "must be a Boolean (true or false)";
    throw fieldError("InvalidParameter", this.path(name), expected, value);
  }

  /** A nested struct, as an Input whose messages name `name.Field`. */
  object(name: string, opts: IsRequired): Input;
  object(name: string, opts?: { required?: boolean }): Input | undefined;
  object(name: string, opts: { required?: boolean } = {}): Input | undefined {
    const value = this.raw(name, opts.required);
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) throw fieldError("InvalidParameter", this.path(name), "must be an object", value);
    return new Input(value, { fromQuery: this.fromQuery }, this.path(name));
  }

  private toInteger(name: string, value: unknown): number {
    let n: number;
    if (typeof value === "number") {
      n = value;
    } else if (this.fromQuery && typeof value === "string" && QUERY_INTEGER_RE.test(value)) {
      n = Number(value);
    } else {
      throw fieldError("InvalidParameter", this.path(name), "must be an Integer", value);
    }
    if (!Number.isSafeInteger(n)) {
      throw fieldError("InvalidParameter", this.path(name), "must be an Integer (a safe integer)", value);
    }
    return n === 0 ? 0 : n; // -0 -> 0
  }
}
