/**
 * ADTS framing (ISO/IEC 13818-7 / 14496-3 §1.A.2): enough to find the last
 * whole frame of a torn .aac file and how much audio it holds. Pure.
 */

/** Sampling frequency index -> Hz (ISO/IEC 14496-3 Table 1.18). */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const SAMPLES_PER_FRAME = 1024;
const SYNC_WORD = 0xfff;
const HEADER_BYTES = 7;

export interface AdtsScan {
  frames: number;
  /** Bytes up to the end of the last whole frame. */
  validLength: number;
  sampleRate: number;
  durationMs: number;
}

export function scanAdts(buf: Buffer): AdtsScan {
  let pos = 0;
  let frames = 0;
  let sampleRate = 0;
  while (pos + HEADER_BYTES <= buf.length) {
    if (((buf[pos]! << 4) | (buf[pos + 1]! >> 4)) !== SYNC_WORD) break;
    const rate = SAMPLE_RATES[(buf[pos + 2]! >> 2) & 0x0f];
    const length = ((buf[pos + 3]! & 0x03) << 11) | (buf[pos + 4]! << 3) | (buf[pos + 5]! >> 5);
    if (rate === undefined || length < HEADER_BYTES || pos + length > buf.length) break;
    sampleRate ||= rate;
    frames++;
    pos += length;
  }
  return { frames, validLength: pos, sampleRate, durationMs: sampleRate ? Math.round((frames * SAMPLES_PER_FRAME * 1000) / sampleRate) : 0 };
}
