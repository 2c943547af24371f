/**
 * AMF0 codec (Adobe "AMF 0 File Format Specification", §2).
 * Decoding is defensive: every read is bounds-checked and every failure is a
 * ParseError, because these bytes come straight off the network.
 */
import { ParseError } from "../errors.js";

export type Amf0Object = { [key: string]: Amf0Value };
export type Amf0Value = number | boolean | string | null | undefined | Amf0Object | Amf0Value[] | Date;

/** Type markers, AMF0 spec §2.1. */
export const Amf0Marker = {
  Number: 0x00, // §2.2
  Boolean: 0x01, // §2.3
  String: 0x02, // §2.4
  Object: 0x03, // §2.5
  MovieClip: 0x04, // §2.6 reserved
  Null: 0x05, // §2.7
  Undefined: 0x06, // §2.8
  Reference: 0x07, // §2.9
  EcmaArray: 0x08, // §2.10
  ObjectEnd: 0x09, // §2.11
  StrictArray: 0x0a, // §2.12
  Date: 0x0b, // §2.13
  LongString: 0x0c, // §2.14
  Unsupported: 0x0d, // §2.15
  RecordSet: 0x0e, // §2.16 reserved
  XmlDocument: 0x0f, // §2.17
  TypedObject: 0x10, // §2.18
  AvmPlusObject: 0x11, // §3.1 switch to AMF3
} as const;

/** Nesting depth of objects/arrays accepted by the decoder. */
export const AMF0_MAX_DEPTH = 32;
/** Total values (nested included) accepted in one decodeAmf0 call. */
export const AMF0_MAX_VALUES = 10_000;

/**
 * Bytes that invalid UTF-8 may add, in one decodeAmf0 call, when the decoded
 * strings are encoded again (an invalid byte decodes to U+FFFD, 3 bytes in
 * UTF-8). Past it the input is refused (AMF_BAD_UTF8), so re-encoding what the
 * decoder returned (the FLV muxer re-encodes the publisher's onMetaData) stays
 * within a few KiB of the input: an 8 MiB message of 0xff bytes would
 * otherwise come back as 24 MiB, more than an FLV tag holds. A stray invalid
 * byte here and there (a Latin-1 title) is still decoded as before.
 */
export const AMF0_MAX_UTF8_GROWTH = 64 * 1024;

/** Encoder-side guard against cyclic values; deeper than the decoder accepts so tests can build hostile input. */
const ENCODE_MAX_DEPTH = 1024;

/** UTF-8 strings up to this many bytes use the 16-bit length form (§2.4); longer ones use §2.14. */
const SHORT_STRING_MAX = 0xffff;

class Decoder {
  pos = 0;
  values = 0;
  /** Bytes re-encoding the strings decoded so far would add (invalid UTF-8 only). */
  private utf8Growth = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new ParseError("AMF_TRUNCATED", `AMF0: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`);
    }
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  private utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString("utf8", this.pos, this.pos + len);
    this.pos += len;
    // Only invalid UTF-8 makes the re-encoding longer than the source bytes.
    const grown = len === 0 ? 0 : Buffer.byteLength(s, "utf8") - len;
    if (grown > 0) {
      this.utf8Growth += grown;
      if (this.utf8Growth > AMF0_MAX_UTF8_GROWTH) {
        throw new ParseError("AMF_BAD_UTF8", `AMF0: more than ${AMF0_MAX_UTF8_GROWTH} bytes of invalid UTF-8 replacement before offset ${this.pos}`);
      }
    }
    return s;
  }

  /** A property name; refused when its UTF-8 re-encoding would not fit the 16-bit length again (invalid UTF-8). */
  private key(len: number): string {
    const key = this.utf8(len);
    if (len > SHORT_STRING_MAX / 3 && Buffer.byteLength(key, "utf8") > SHORT_STRING_MAX) {
      throw new ParseError("AMF_BAD_UTF8", `AMF0: property name of ${len} bytes is longer than ${SHORT_STRING_MAX} bytes as UTF-8`);
    }
    return key;
  }

  private count(): void {
    if (++this.values > AMF0_MAX_VALUES) {
      throw new ParseError("AMF_TOO_LARGE", `AMF0: more than ${AMF0_MAX_VALUES} values`);
    }
  }

  /** Reads one value; `depth` is the number of enclosing containers. */
  value(depth: number): Amf0Value {
    const marker = this.u8();
    this.count();
    switch (marker) {
      case Amf0Marker.Number:
        return this.f64();
      case Amf0Marker.Boolean:
        return this.u8() !== 0;
      case Amf0Marker.String:
        return this.utf8(this.u16());
      case Amf0Marker.LongString:
      case Amf0Marker.XmlDocument: // same layout as a long string (§2.17)
        return this.utf8(this.u32());
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Date: {
        const ms = this.f64();
        this.need(2); // time-zone: reserved, should be 0 (§2.13)
        this.pos += 2;
        return new Date(ms);
      }
      case Amf0Marker.Object:
        this.enter(depth);
        return this.properties(depth + 1, -1);
      case Amf0Marker.EcmaArray: {
        this.enter(depth);
        const declared = this.u32();
        return this.properties(depth + 1, declared);
      }
      case Amf0Marker.StrictArray: {
        this.enter(depth);
        const n = this.u32();
        if (n > AMF0_MAX_VALUES) throw new ParseError("AMF_TOO_LARGE", `AMF0: strict array of ${n} values`);
        // Each element takes at least its marker byte: refuse before looping.
        this.need(n);
        const out: Amf0Value[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case Amf0Marker.MovieClip:
      case Amf0Marker.Reference:
      case Amf0Marker.RecordSet:
      case Amf0Marker.TypedObject:
      case Amf0Marker.AvmPlusObject:
        throw new ParseError("AMF_UNSUPPORTED", `AMF0: unsupported type marker 0x${marker.toString(16)}`);
      default:
        throw new ParseError("AMF_BAD_MARKER", `AMF0: unknown type marker 0x${marker.toString(16)} at offset ${this.pos - 1}`);
    }
  }

  private enter(depth: number): void {
    if (depth >= AMF0_MAX_DEPTH) throw new ParseError("AMF_TOO_DEEP", `AMF0: nesting deeper than ${AMF0_MAX_DEPTH}`);
  }

  /**
   * Property list of an object or ECMA array (§2.5, §2.10), terminated by an
   * empty name + object-end marker. For ECMA arrays (`declared` >= 0) the
   * terminator may be missing at the very end of the buffer: some encoders omit it.
   */
  private properties(depth: number, declared: number): Amf0Object {
    const obj: Amf0Object = {};
    let n = 0;
    for (;;) {
      if (declared >= 0 && n >= declared && this.pos === this.buf.length) return obj;
      const keyLen = this.u16();
      if (keyLen === 0) {
        this.need(1);
        if (this.buf[this.pos] === Amf0Marker.ObjectEnd) {
          this.pos++;
          return obj;
        }
      }
      const key = this.key(keyLen);
      const v = this.value(depth);
      if (key === "__proto__") {
        // A plain assignment would replace the prototype instead of adding a key.
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        obj[key] = v;
      }
      n++;
    }
  }
}

/** Decodes every AMF0 value in `buf`. Throws ParseError on malformed input. */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const d = new Decoder(buf);
  const out: Amf0Value[] = [];
  while (d.pos < buf.length) {
    // A stray object-end at top level carries no value; tolerate it.
    if (buf[d.pos] === Amf0Marker.ObjectEnd) {
      d.pos++;
      continue;
    }
    out.push(d.value(0));
  }
  return out;
}

class Encoder {
  private parts: Buffer[] = [];

  private push(b: Buffer): void {
    this.parts.push(b);
  }

  private marker(m: number): void {
    this.push(Buffer.from([m]));
  }

  key(name: string): void {
    const s = Buffer.from(name, "utf8");
    if (s.length > SHORT_STRING_MAX) throw new RangeError("AMF0: property name longer than 65535 bytes");
    const h = Buffer.allocUnsafe(2);
    h.writeUInt16BE(s.length, 0);
    this.push(h);
    this.push(s);
  }

  objectEnd(): void {
    this.push(Buffer.from([0, 0, Amf0Marker.ObjectEnd]));
  }

  ecmaArray(obj: Amf0Object, depth: number): void {
    const keys = Object.keys(obj);
    const h = Buffer.allocUnsafe(5);
    h[0] = Amf0Marker.EcmaArray;
    h.writeUInt32BE(keys.length, 1);
    this.push(h);
    for (const k of keys) {
      this.key(k);
      this.value(obj[k], depth + 1);
    }
    this.objectEnd();
  }

  value(v: Amf0Value, depth: number): void {
    if (depth > ENCODE_MAX_DEPTH) throw new RangeError("AMF0: value nested too deeply (cyclic?)");
    if (v === null) {
      this.marker(Amf0Marker.Null);
    } else if (v === undefined) {
      this.marker(Amf0Marker.Undefined);
    } else if (typeof v === "number") {
      const b = Buffer.allocUnsafe(9);
      b[0] = Amf0Marker.Number;
      b.writeDoubleBE(v, 1);
      this.push(b);
    } else if (typeof v === "boolean") {
      this.push(Buffer.from([Amf0Marker.Boolean, v ? 1 : 0]));
    } else if (typeof v === "string") {
      const s = Buffer.from(v, "utf8");
      const long = s.length > SHORT_STRING_MAX;
      const h = Buffer.allocUnsafe(long ? 5 : 3);
      h[0] = long ? Amf0Marker.LongString : Amf0Marker.String;
      if (long) h.writeUInt32BE(s.length, 1);
      else h.writeUInt16BE(s.length, 1);
      this.push(h);
      this.push(s);
    } else if (v instanceof Date) {
      const b = Buffer.alloc(11); // time-zone stays 0 (§2.13)
      b[0] = Amf0Marker.Date;
      b.writeDoubleBE(v.getTime(), 1);
      this.push(b);
    } else if (Array.isArray(v)) {
      const h = Buffer.allocUnsafe(5);
      h[0] = Amf0Marker.StrictArray;
      h.writeUInt32BE(v.length, 1);
      this.push(h);
      for (const item of v) this.value(item, depth + 1);
    } else {
      this.marker(Amf0Marker.Object);
      for (const k of Object.keys(v)) {
        this.key(k);
        this.value(v[k], depth + 1);
      }
      this.objectEnd();
    }
  }

  result(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Encodes values back to back. Objects become anonymous objects (§2.5), arrays strict arrays (§2.12). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const e = new Encoder();
  for (const v of values) e.value(v, 0);
  return e.result();
}

/** Encodes `obj` as an ECMA array (§2.10), the form onMetaData uses. */
export function encodeEcmaArray(obj: Amf0Object): Buffer {
  const e = new Encoder();
  e.ecmaArray(obj, 0);
  return e.result();
}
