/** Live pushes now: what each carries, which rule and template apply, what is being recorded and what is skipped. */
import type { OnlineInfo, RecordTemplate } from "../api/types";
import { Badge, ConfirmButton, Empty, ErrorBanner, PageHeader } from "../ui/components";
import { asApiError, useApi, useLoad } from "../ui/hooks";
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import { bytes, codec, dateTime, duration, FORMAT_LABEL } from "../format";

export function LivePage() {
  const api = useApi();
  const live = useLoad(() => api.call<{ OnlineInfo: OnlineInfo[] }>("DescribeLiveStreamOnlineList"), [], 2000);
  const templates = useLoad(() => api.call<{ Templates: RecordTemplate[] }>("DescribeLiveRecordTemplates"), []);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const names = new Map((templates.data?.Templates ?? []).map((t) => [t.TemplateId, t.TemplateName]));
  const templateLabel = (id: number) => (id === 0 ? "config recordTemplate" : `#${id} ${names.get(id) ?? ""}`.trim());
  const pushes = live.data?.OnlineInfo ?? [];

  return (
    <section>
      <PageHeader title="Live streams">
        <span class="muted small">{live.data ? `${pushes.length} live · refreshes every 2 s` : "loading…"}</span>
        <button type="button" class="btn" onClick={() => void live.reload()}>
          Refresh
        </button>
      </PageHeader>
      <ErrorBanner error={live.error ?? actionError} />
      {live.data && pushes.length === 0 && <Empty>No stream is being pushed. Encoders push RTMP to rtmp://&lt;host&gt;:1935/&lt;app&gt;/&lt;stream&gt;.</Empty>}
      {pushes.length > 0 && (
        <table class="table live-table">
          <thead>
            <tr>
              <th>Stream</th>
              <th>Since</th>
              <th>Bitrate</th>
              <th>Tracks</th>
              <th>Template and rule</th>
              <th>Recording</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {pushes.map((p) => {
              const key = `${p.DomainName}/${p.AppName}/${p.StreamName}`;
              const tracks = p.Recordings.find((r) => r.state !== "probing")?.tracks;
              return (
                <tr key={key} data-stream={p.StreamName}>
                  <td>
                    <div class="strong mono">{key}</div>
                    <div class="muted small">from {p.RemoteAddress}</div>
                  </td>
                  <td>
                    <div>{duration(p.UptimeSec)}</div>
                    <div class="muted small">{p.PublishTimeList[0] ? dateTime(p.PublishTimeList[0].PublishTime) : ""}</div>
                  </td>
                  <td class="num">{p.BitrateKbps} kbit/s</td>
                  <td>
                    {tracks ? (
                      <>
                        <div>{tracks.video ? `video ${codec(tracks.video)}` : <span class="muted">no video</span>}</div>
                        <div>{tracks.audio ? `audio ${codec(tracks.audio)}` : <span class="muted">no audio</span>}</div>
                      </>
                    ) : (
                      <span class="muted">probing…</span>
                    )}
                  </td>
                  <td>
                    <div class="live-template">{templateLabel(p.TemplateId)}</div>
                    <div class="muted small live-rule" title="the rule that matched this push at its start">
                      rule: {p.MatchedRule || "none"}
                    </div>
                  </td>
                  <td>
                    {p.Recordings.length === 0 && <span class="muted">nothing recorded</span>}
                    {p.Recordings.map((r) => (
                      <div class="recording-line" key={r.id}>
                        <div>
                          <Badge kind={r.state}>{r.state}</Badge> {r.taskId ? <span class="small">task {r.taskId.slice(0, 10)}… ({templateLabel(r.templateId)})</span> : <span class="small">template</span>}
                        </div>
                        <div class="formats">
                          {r.formats.length === 0 && r.state !== "probing" && <span class="muted small">no format</span>}
                          {r.formats.map((f) => (
                            <Badge key={f} kind="format">
                              {FORMAT_LABEL[f] ?? f}
                            </Badge>
                          ))}
                        </div>
                        {r.skipped.map((s) => (
                          <div key={s.format} class="skipped small" title={s.code}>
                            {FORMAT_LABEL[s.format] ?? s.format} skipped: {s.reason} <span class="mono muted">{s.code}</span>
                          </div>
                        ))}
                        <div class="muted small">
                          {r.filesCompleted} files done · queued {bytes(r.queuedBytes)}
                          {r.droppedFrames > 0 && <span class="warn"> · {r.droppedFrames} frames dropped</span>}
                          {r.errors > 0 && <span class="warn"> · {r.errors} errors</span>}
                        </div>
                      </div>
                    ))}
                  </td>
                  <td class="actions">
                    <ConfirmButton
                      label="Stop push"
                      confirmLabel="Disconnect"
                      danger
                      title="DropLiveStream: disconnects the publisher; its recordings close"
                      onConfirm={async () => {
                        setActionError(undefined);
                        try {
                          await api.call("DropLiveStream", { DomainName: p.DomainName, AppName: p.AppName, StreamName: p.StreamName });
                        } catch (err) {
                          setActionError(asApiError(err));
                        }
                        await live.reload();
                      }}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
