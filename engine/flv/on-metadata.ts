/**
 * The one reader of the publisher's onMetaData script tag: the cheap header
 * check that tells it from other script tags, and the parse into a typed
 * object that every stage reads (tag description, FLV file headers, the
 * track probe, the media description of finished files).
 *
 * Body layout: FLV spec v10.1 E.4.4.1 (SCRIPTDATA: a name, then a value);
 * over RTMP encoders send it as `@setDataFrame onMetaData {...}`. Values are
 * AMF0 (rtmp/amf0.ts).
 */
import { type Amf0Object, decodeAmf0 } from "../rtmp/amf0.js";

/** onMetaData keys that describe one file, not the stream: every file writer writes its own. */
const PER_FILE_KEYS = new Set(["duration", "filesize", "lasttimestamp", "lastkeyframetimestamp", "keyframes", "times", "filepositions"]);

const ON_METADATA = Buffer.from("onMetaData", "latin1");
const SET_DATA_FRAME = Buffer.from("@setDataFrame", "latin1");
/** AMF0 string marker (AMF0 spec 2.4). */
const AMF0_STRING = 0x02;

/** The publisher's onMetaData, parsed once per script tag. */
export interface OnMetaData {
  /** The fields that describe the stream (width, height, codec ids, encoder...), per-file keys left out. */
  readonly fields: Amf0Object;
  /** Picture size, when both are announced as positive numbers (rounded). */
  readonly width?: number;
  readonly height?: number;
  /** Which tracks it announces (a videocodecid / audiocodecid key). */
  readonly announces: { readonly video: boolean; readonly audio: boolean };
}

/** Length in bytes of a leading AMF0 string equal to `s` at `offset`, or 0 if absent. */
function amfStringAt(data: Buffer, offset: number, s: Buffer): number {
  if (data.length < offset + 3 + s.length || data[offset] !== AMF0_STRING) return 0;
  if (data.readUInt16BE(offset + 1) !== s.length) return 0;
  return data.compare(s, 0, s.length, offset + 3, offset + 3 + s.length) === 0 ? 3 + s.length : 0;
}

/**
 * True for a script tag whose body is `onMetaData ...` or, as encoders send it
 * over RTMP, `@setDataFrame onMetaData ...`.
 */
export function isOnMetaData(data: Buffer): boolean {
  const skip = amfStringAt(data, 0, SET_DATA_FRAME);
  return amfStringAt(data, skip, ON_METADATA) > 0;
}

/** Strips a leading `@setDataFrame` so a script tag is stored the way FLV files carry it. */
export function stripSetDataFrame(data: Buffer): Buffer {
  const skip = amfStringAt(data, 0, SET_DATA_FRAME);
  return skip > 0 ? data.subarray(skip) : data;
}

/** The fields of the object that follows the name onMetaData; {} when the values cannot be decoded. */
function decodeFields(data: Buffer): Amf0Object | undefined {
  try {
    const values = decodeAmf0(data);
    const index = values.indexOf("onMetaData");
    const obj = values[index + 1];
    if (index < 0 || typeof obj !== "object" || obj === null || Array.isArray(obj) || obj instanceof Date) return {};
    const out: Amf0Object = {};
    // "__proto__" would set the copy's prototype instead of a field: publisher metadata must stay plain data.
    for (const [k, v] of Object.entries(obj)) if (!PER_FILE_KEYS.has(k) && k !== "__proto__") out[k] = v;
    return out;
  } catch {
    return undefined; // bad publisher metadata must not stop the recording
  }
}

/**
 * Parses an onMetaData script tag body (either form). Undefined for other
 * script tags. Never throws: undecodable values give empty fields. Keeps no
 * reference to `data`.
 */
export function readOnMetaData(data: Buffer): OnMetaData | undefined {
  if (!isOnMetaData(data)) return undefined;
  const decoded = decodeFields(data);
  const fields = decoded ?? {};
  const { width, height } = fields;
  const sized = typeof width === "number" && typeof height === "number" && width > 0 && height > 0;
  let announces: OnMetaData["announces"];
  if (decoded) {
    announces = { video: "videocodecid" in decoded, audio: "audiocodecid" in decoded };
  } else {
    // Values we cannot decode may still name the tracks: read the key names from the bytes.
    const text = data.toString("latin1");
    announces = { video: text.includes("videocodecid"), audio: text.includes("audiocodecid") };
  }
  return { fields, announces, ...(sized ? { width: Math.round(width), height: Math.round(height) } : {}) };
}
