/**
 * Plays one recording in the page: HLS with hls.js (its light build; spliced
 * playlists with discontinuities included), MP4 and AAC natively, FLV with
 * mpegts.js (the maintained successor of flv.js, over Media Source
 * Extensions). The players are separate chunks, loaded on first use.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { MediaInfo } from "../api/types";
import { bytes, codec, dateTime, FORMAT_LABEL, seconds } from "../format";

/**
 * Where the page fetches a recording: the MediaUrl's path on this origin when
 * it is one of ours (/recordings/...), so playback works whatever host name
 * http.publicUrl or the listen address put in the URL (and without mixed content).
 */
export function playableUrl(mediaUrl: string): string {
  try {
    const u = new URL(mediaUrl, location.href);
    return u.pathname.startsWith("/recordings/") ? `${location.origin}${u.pathname}${u.search}` : u.href;
  } catch {
    return mediaUrl;
  }
}

type Engine = "hls.js" | "native HLS" | "mpegts.js" | "native";

export function Player({ media, onClose }: { media: MediaInfo; onClose: () => void }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  const [engine, setEngine] = useState<Engine | undefined>(undefined);
  const [error, setError] = useState("");
  const type = media.BasicInfo.Type;
  const url = playableUrl(media.BasicInfo.MediaUrl);
  const audioOnly = type === "aac";

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let cleanup: () => void = () => undefined;
    let cancelled = false;
    setError("");
    const onError = () => {
      const e = el.error;
      if (e) setError(`the browser cannot play this file (${e.message || `media error ${e.code}`})`);
    };
    el.addEventListener("error", onError);
    (async () => {
      if (type === "m3u8") {
        const { default: Hls } = await import("hls.js/light");
        if (cancelled) return;
        if (Hls.isSupported()) {
          const hls = new Hls({ enableWorker: true });
          hls.on(Hls.Events.ERROR, (_evt, data) => {
            if (data.fatal) setError(`hls.js: ${data.type} ${data.details}`);
          });
          hls.loadSource(url);
          hls.attachMedia(el);
          cleanup = () => hls.destroy();
          setEngine("hls.js");
        } else if (el.canPlayType("application/vnd.apple.mpegurl")) {
          el.src = url;
          setEngine("native HLS");
        } else {
          setError("this browser has neither Media Source Extensions nor native HLS");
        }
      } else if (type === "flv") {
        const { default: mpegts } = await import("mpegts.js");
        if (cancelled) return;
        if (!mpegts.isSupported()) {
          setError("this browser cannot play FLV in the page (no Media Source Extensions): download it instead");
          return;
        }
        const player = mpegts.createPlayer({ type: "flv", url, isLive: false, hasAudio: media.MetaData.AudioStreamSet.length > 0, hasVideo: media.MetaData.VideoStreamSet.length > 0 }, { enableWorker: false, lazyLoad: false });
        player.on(mpegts.Events.ERROR, (kind: string, detail: string) => setError(`mpegts.js: ${kind} ${detail}`));
        player.attachMediaElement(el);
        player.load();
        cleanup = () => {
          player.pause();
          player.unload();
          player.detachMediaElement();
          player.destroy();
        };
        setEngine("mpegts.js");
      } else {
        el.src = url;
        setEngine("native");
      }
    })().catch((err: unknown) => setError(`the player did not load: ${err instanceof Error ? err.message : String(err)}`));
    return () => {
      cancelled = true;
      el.removeEventListener("error", onError);
      cleanup();
      el.removeAttribute("src");
      el.load();
    };
  }, [url, type, media]);

  const info = media.BasicInfo.SourceInfo.LiveRecordInfo;
  const v = audioOnly ? undefined : media.MetaData.VideoStreamSet[0];
  const a = media.MetaData.AudioStreamSet[0];
  return (
    <div class="panel player" data-file-id={media.FileId} data-engine={engine ?? ""}>
      <div class="player-head">
        <div>
          <h2>
            {media.BasicInfo.Name}.{type}
          </h2>
          <div class="muted small">
            {info.Domain}/{info.Path}/{info.StreamId} · {FORMAT_LABEL[type]} · {seconds(media.MetaData.Duration)} · {bytes(media.MetaData.Size)}
            {v && ` · ${codec(v.Codec)} ${v.Width}×${v.Height}`}
            {a && ` · ${codec(a.Codec)}`} · recorded {dateTime(info.RecordStartTime)}
            {engine && ` · played with ${engine}`}
          </div>
        </div>
        <div class="page-actions">
          <a class="btn" href={url} download>
            Download
          </a>
          <button type="button" class="btn link" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      {audioOnly ? (
        // biome-ignore lint/a11y/useMediaCaption: recordings have no captions
        <audio ref={ref} controls autoplay class="media" />
      ) : (
        // biome-ignore lint/a11y/useMediaCaption: recordings have no captions
        <video ref={ref} controls autoplay playsInline class="media" />
      )}
      {error && (
        <div class="error-banner" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
