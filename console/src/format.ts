/** Display helpers: sizes, durations, times. */

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 75 -> "1:15", 3675 -> "1:01:15". */
export function duration(sec: number): string {
  if (!Number.isFinite(sec)) return "";
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A RecordInterval-like number of seconds: "30 min", "2 h", "90 s". */
export function interval(sec: number): string {
  if (sec > 0 && sec % 3600 === 0) return `${sec / 3600} h`;
  if (sec > 0 && sec % 60 === 0) return `${sec / 60} min`;
  return `${sec} s`;
}

/** Seconds with one decimal, for media lengths. */
export function seconds(sec: number): string {
  return Number.isFinite(sec) ? `${sec.toFixed(1)} s` : "";
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local "YYYY-MM-DD HH:mm:ss" of a Date, ms or ISO string. */
export function dateTime(t: Date | number | string): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Unix seconds -> local date-time text ("" for 0). */
export function unixTime(sec: number): string {
  return sec > 0 ? dateTime(sec * 1000) : "";
}

/** A Date as the value of an <input type="datetime-local"> (local time, minutes). */
export function toDateTimeLocal(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The value of an <input type="datetime-local"> as Unix seconds, or undefined when empty/invalid. */
export function fromDateTimeLocal(v: string): number | undefined {
  if (!v) return undefined;
  const ms = new Date(v).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Same, as an ISO 8601 string with the local offset (what SearchMedia takes). */
export function isoFromDateTimeLocal(v: string): string | undefined {
  const sec = fromDateTimeLocal(v);
  return sec === undefined ? undefined : new Date(sec * 1000).toISOString();
}

/** "h264" -> "H.264" and friends, for codec names. */
export function codec(name: string | undefined): string {
  if (!name) return "";
  const known: Record<string, string> = { h264: "H.264", h265: "H.265", h266: "H.266", av1: "AV1", vp9: "VP9", vp8: "VP8", aac: "AAC", mp3: "MP3", opus: "Opus", flac: "FLAC", ac3: "AC-3", eac3: "E-AC-3" };
  return known[name.toLowerCase()] ?? name;
}

export const FORMAT_LABEL: Record<string, string> = { flv: "FLV", hls: "HLS", m3u8: "HLS", mp4: "MP4", aac: "AAC", mp3: "MP3" };
