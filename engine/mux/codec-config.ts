/**
 * What a container header needs to know from a codec configuration record:
 * picture size, sample rate, channels, and (for in-band config changes) the
 * parameter sets. Pure readers, tolerant: a record they cannot parse gives
 * `undefined` fields, never an exception.
 *
 * - avcC: ISO/IEC 14496-15 §5.3.3.1 (AVCDecoderConfigurationRecord); SPS: H.264 §7.3.2.1.1
 * - hvcC: ISO/IEC 14496-15 §8.3.3.1 (HEVCDecoderConfigurationRecord); SPS: H.265 §7.3.2.2
 * - av1C: AV1 ISOBMFF binding §2.3 (AV1CodecConfigurationRecord); sequence header: AV1 spec §5.5
 * - AudioSpecificConfig: ISO/IEC 14496-3 §1.6.2.1
 * - OpusHead: RFC 7845 §5.1
 * - MP3 frame header: ISO/IEC 11172-3 §2.4.1.3
 */

export interface VideoDimensions {
  width?: number;
  height?: number;
}

export interface AudioFormat {
  sampleRate?: number;
  channels?: number;
}

/** Reads bits MSB first from an RBSP (emulation prevention bytes already removed). */
class BitReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  bit(): number {
    if (this.pos >= this.buf.length * 8) throw new RangeError("read past the end");
    const b = (this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    this.pos += n;
  }

  /** Exp-Golomb ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) throw new RangeError("bad exp-golomb code");
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** AV1 uvlc(). */
  uvlc(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros >= 32) return 2 ** 32 - 1;
    }
    return this.bits(zeros) + 2 ** zeros - 1;
  }
}

/** Removes emulation prevention bytes (00 00 03 -> 00 00). */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

function safely<T extends object>(fn: () => T): T | Record<string, never> {
  try {
    return fn();
  } catch {
    return {};
  }
}

// --- H.264 -------------------------------------------------------------------

export interface NalArrays {
  /** Bytes of the NAL unit length field in frames (lengthSizeMinusOne + 1). */
  lengthSize: number;
  /** Parameter set NAL units, in the record's order (VPS, SPS, PPS...). */
  nalus: Buffer[];
}

/** Parameter sets of an avcC record. */
export function avcCNalus(avcC: Buffer): NalArrays | undefined {
  if (avcC.length < 7 || avcC[0] !== 1) return undefined;
  const lengthSize = (avcC[4]! & 0x03) + 1;
  const nalus: Buffer[] = [];
  let pos = 5;
  for (const mask of [0x1f, 0xff]) {
    if (pos >= avcC.length) break;
    const count = avcC[pos]! & mask;
    pos++;
    for (let i = 0; i < count && pos + 2 <= avcC.length; i++) {
      const len = avcC.readUInt16BE(pos);
      nalus.push(avcC.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
  }
  return { lengthSize, nalus };
}

const H264_HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipH264ScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Picture size from an H.264 SPS NAL unit (with its 1-byte header). */
export function h264SpsDimensions(nal: Buffer): VideoDimensions {
  return safely(() => {
    const r = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profile = r.bits(8);
    r.skip(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    let separateColourPlane = 0;
    if (H264_HIGH_PROFILES.has(profile)) {
      chromaFormat = r.ue();
      if (chromaFormat === 3) separateColourPlane = r.bit();
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.bit(); // qpprime_y_zero_transform_bypass_flag
      if (r.bit()) {
        for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) if (r.bit()) skipH264ScalingList(r, i < 6 ? 16 : 64);
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.bit();
      r.se();
      r.se();
      const n = r.ue();
      for (let i = 0; i < n; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.bit(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightUnits = r.ue() + 1;
    const frameMbsOnly = r.bit();
    if (!frameMbsOnly) r.bit();
    r.bit(); // direct_8x8_inference_flag
    let crop = [0, 0, 0, 0];
    if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
    const arrayType = separateColourPlane ? 0 : chromaFormat;
    const subW = arrayType === 1 || arrayType === 2 ? 2 : 1;
    const subH = arrayType === 1 ? 2 : 1;
    const cropX = arrayType === 0 ? 1 : subW;
    const cropY = (arrayType === 0 ? 1 : subH) * (2 - frameMbsOnly);
    return {
      width: widthMbs * 16 - cropX * (crop[0]! + crop[1]!),
      height: (2 - frameMbsOnly) * heightUnits * 16 - cropY * (crop[2]! + crop[3]!),
    };
  });
}

export function avcCDimensions(avcC: Buffer): VideoDimensions {
  const sps = avcCNalus(avcC)?.nalus.find((n) => (n[0]! & 0x1f) === 7);
  return sps ? h264SpsDimensions(sps) : {};
}

// --- H.265 -------------------------------------------------------------------

const HEVC_NAL_SPS = 33;

/** Parameter sets of an hvcC record (all arrays: VPS, SPS, PPS, SEI...). */
export function hvcCNalus(hvcC: Buffer): NalArrays | undefined {
  if (hvcC.length < 23 || hvcC[0] !== 1) return undefined;
  const lengthSize = (hvcC[21]! & 0x03) + 1;
  const arrays = hvcC[22]!;
  const nalus: Buffer[] = [];
  let pos = 23;
  for (let a = 0; a < arrays && pos + 3 <= hvcC.length; a++) {
    const count = hvcC.readUInt16BE(pos + 1);
    pos += 3;
    for (let i = 0; i < count && pos + 2 <= hvcC.length; i++) {
      const len = hvcC.readUInt16BE(pos);
      nalus.push(hvcC.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
  }
  return { lengthSize, nalus };
}

/** Picture size from an H.265 SPS NAL unit (with its 2-byte header). */
export function h265SpsDimensions(nal: Buffer): VideoDimensions {
  return safely(() => {
    const r = new BitReader(unescapeRbsp(nal.subarray(2)));
    r.skip(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = r.bits(3);
    r.skip(1); // sps_temporal_id_nesting_flag
    // profile_tier_level(1, maxSubLayersMinus1)
    r.skip(2 + 1 + 5 + 32 + 48 + 8);
    const profilePresent: number[] = [];
    const levelPresent: number[] = [];
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      profilePresent.push(r.bit());
      levelPresent.push(r.bit());
    }
    if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skip(2);
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      if (profilePresent[i]) r.skip(88);
      if (levelPresent[i]) r.skip(8);
    }
    r.ue(); // sps_seq_parameter_set_id
    const chromaFormat = r.ue();
    let separateColourPlane = 0;
    if (chromaFormat === 3) separateColourPlane = r.bit();
    let width = r.ue();
    let height = r.ue();
    if (r.bit()) {
      const arrayType = separateColourPlane ? 0 : chromaFormat;
      const subW = arrayType === 1 || arrayType === 2 ? 2 : 1;
      const subH = arrayType === 1 ? 2 : 1;
      const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
      width -= subW * (left + right);
      height -= subH * (top + bottom);
    }
    return { width, height };
  });
}

export function hvcCDimensions(hvcC: Buffer): VideoDimensions {
  const sps = hvcCNalus(hvcC)?.nalus.find((n) => ((n[0]! >> 1) & 0x3f) === HEVC_NAL_SPS);
  return sps ? h265SpsDimensions(sps) : {};
}

// --- AV1 ---------------------------------------------------------------------

const OBU_SEQUENCE_HEADER = 1;

function readLeb128(buf: Buffer, offset: number): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const b = buf[offset + i];
    if (b === undefined) throw new RangeError("truncated leb128");
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return { value, length: i + 1 };
  }
  throw new RangeError("leb128 too long");
}

/** The payload of the first sequence header OBU in a run of low-overhead-format OBUs. */
export function findAv1SequenceHeader(obus: Buffer): Buffer | undefined {
  let pos = 0;
  while (pos < obus.length) {
    const header = obus[pos]!;
    const type = (header >> 3) & 0x0f;
    const hasExtension = (header >> 2) & 1;
    const hasSize = (header >> 1) & 1;
    let p = pos + 1 + hasExtension;
    let size = obus.length - p;
    if (hasSize) {
      const leb = readLeb128(obus, p);
      p += leb.length;
      size = leb.value;
    }
    if (type === OBU_SEQUENCE_HEADER) return obus.subarray(p, p + size);
    pos = p + size;
  }
  return undefined;
}

/** Maximum frame size from an AV1 sequence header OBU payload (AV1 spec §5.5.1). */
export function av1SequenceHeaderDimensions(payload: Buffer): VideoDimensions {
  return safely(() => {
    const r = new BitReader(payload);
    r.skip(3); // seq_profile
    r.skip(1); // still_picture
    const reduced = r.bit();
    if (reduced) r.skip(5);
    else {
      let decoderModelInfo = 0;
      let bufferDelayLength = 0;
      if (r.bit()) {
        // timing_info
        r.skip(64);
        if (r.bit()) r.uvlc();
        decoderModelInfo = r.bit();
        if (decoderModelInfo) {
          bufferDelayLength = r.bits(5) + 1;
          r.skip(32 + 5 + 5);
        }
      }
      const initialDisplayDelay = r.bit();
      const operatingPoints = r.bits(5) + 1;
      for (let i = 0; i < operatingPoints; i++) {
        r.skip(12);
        const level = r.bits(5);
        if (level > 7) r.skip(1);
        if (decoderModelInfo && r.bit()) r.skip(2 * bufferDelayLength + 1);
        if (initialDisplayDelay && r.bit()) r.skip(4);
      }
    }
    const widthBits = r.bits(4) + 1;
    const heightBits = r.bits(4) + 1;
    return { width: r.bits(widthBits) + 1, height: r.bits(heightBits) + 1 };
  });
}

/** Picture size from an av1C record (its configOBUs), or from a keyframe's OBUs when it has none. */
export function av1Dimensions(av1C: Buffer | undefined, keyframe?: Buffer): VideoDimensions {
  return safely(() => {
    const seq = (av1C && av1C.length > 4 ? findAv1SequenceHeader(av1C.subarray(4)) : undefined) ?? (keyframe ? findAv1SequenceHeader(keyframe) : undefined);
    return seq ? av1SequenceHeaderDimensions(seq) : {};
  });
}

// --- audio -------------------------------------------------------------------

const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Sample rate and channels of an AAC AudioSpecificConfig (the core rate; SBR doubles what players output). */
export function aacConfigFormat(asc: Buffer): AudioFormat {
  return safely(() => {
    const r = new BitReader(asc);
    let objectType = r.bits(5);
    if (objectType === 31) objectType = 32 + r.bits(6);
    const index = r.bits(4);
    const sampleRate = index === 15 ? r.bits(24) : AAC_SAMPLE_RATES[index];
    const channelConfig = r.bits(4);
    const out: AudioFormat = {};
    if (sampleRate) out.sampleRate = sampleRate;
    if (channelConfig > 0) out.channels = channelConfig === 7 ? 8 : channelConfig;
    return out;
  });
}

/** Channels of an OpusHead; Opus always decodes at 48 kHz (RFC 7845 §5.1). */
export function opusHeadFormat(head: Buffer): AudioFormat {
  if (head.length < 19 || head.toString("latin1", 0, 8) !== "OpusHead") return { sampleRate: 48000 };
  return { sampleRate: 48000, channels: head[9]! };
}

/** Pre-skip of an OpusHead, in 48 kHz samples. */
export function opusPreSkip(head: Buffer): number {
  return head.length >= 12 ? head.readUInt16LE(10) : 0;
}

const MP3_RATES = [44100, 48000, 32000];

/** Sample rate and channels from an MPEG audio frame header, if `frame` starts with one. */
export function mp3FrameFormat(frame: Buffer): AudioFormat {
  if (frame.length < 4 || frame[0] !== 0xff || (frame[1]! & 0xe0) !== 0xe0) return {};
  const version = (frame[1]! >> 3) & 0x03; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const rateIndex = (frame[2]! >> 2) & 0x03;
  if (version === 1 || rateIndex === 3) return {};
  const divisor = version === 3 ? 1 : version === 2 ? 2 : 4;
  const channels = (frame[3]! >> 6) === 3 ? 1 : 2;
  return { sampleRate: MP3_RATES[rateIndex]! / divisor, channels };
}
