/** Live pushes now: what each carries, which rule and template apply, what is being recorded and what is skipped. */
import type { LiveRecordingStatus, OnlineInfo } from "../api/types";
import { bytes, codec, dateTime, duration, FORMAT_LABEL } from "../format";
import { Badge, ConfirmButton, PageHeader } from "../ui/components";
import { useAction, useApi, useLoad } from "../ui/hooks";
import { ResourceTable } from "../ui/resource-table";
import { templateNames, useRecordTemplates } from "../ui/templates-and-rules";

export function LivePage() {
  const api = useApi();
  const live = useLoad(() => api.call<{ OnlineInfo: OnlineInfo[] }>("DescribeLiveStreamOnlineList"), [], 2000);
  const templates = useRecordTemplates();
  const action = useAction(live.reload);
  const names = templateNames(templates.data?.Templates);
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
      <ResourceTable
        rows={live.data?.OnlineInfo}
        error={live.error ?? action.error}
        empty={<>No stream is being pushed. Encoders push RTMP to rtmp://&lt;host&gt;:1935/&lt;app&gt;/&lt;stream&gt;.</>}
        class="live-table"
        rowKey={pushKey}
        rowAttributes={(p) => ({ "data-stream": p.StreamName })}
        columns={[
          {
            header: "Stream",
            cell: (p) => (
              <>
                <div class="strong mono">{pushKey(p)}</div>
                <div class="muted small">from {p.RemoteAddress}</div>
              </>
            ),
          },
          {
            header: "Since",
            cell: (p) => (
              <>
                <div>{duration(p.UptimeSec)}</div>
                <div class="muted small">{p.PublishTimeList[0] ? dateTime(p.PublishTimeList[0].PublishTime) : ""}</div>
              </>
            ),
          },
          { header: "Bitrate", class: "num", cell: (p) => <>{p.BitrateKbps} kbit/s</> },
          { header: "Tracks", cell: tracksCell },
          {
            header: "Template and rule",
            cell: (p) => (
              <>
                <div class="live-template">{templateLabel(p.TemplateId)}</div>
                <div class="muted small live-rule" title="the rule that matched this push at its start">
                  rule: {p.MatchedRule || "none"}
                </div>
              </>
            ),
          },
          {
            header: "Recording",
            cell: (p) => (
              <>
                {p.Recordings.length === 0 && <span class="muted">nothing recorded</span>}
                {p.Recordings.map((r) => (
                  <RecordingLine key={r.id} r={r} templateLabel={templateLabel} />
                ))}
              </>
            ),
          },
          {
            class: "actions",
            cell: (p) => (
              <ConfirmButton
                label="Stop push"
                confirmLabel="Disconnect"
                danger
                title="DropLiveStream: disconnects the publisher; its recordings close"
                onConfirm={() => action.run(() => api.call("DropLiveStream", { DomainName: p.DomainName, AppName: p.AppName, StreamName: p.StreamName }))}
              />
            ),
          },
        ]}
      />
    </section>
  );
}

const pushKey = (p: OnlineInfo) => `${p.DomainName}/${p.AppName}/${p.StreamName}`;

function tracksCell(p: OnlineInfo) {
  const tracks = p.Recordings.find((r) => r.state !== "probing")?.tracks;
  if (!tracks) return <span class="muted">probing…</span>;
  return (
    <>
      <div>{tracks.video ? `video ${codec(tracks.video)}` : <span class="muted">no video</span>}</div>
      <div>{tracks.audio ? `audio ${codec(tracks.audio)}` : <span class="muted">no audio</span>}</div>
    </>
  );
}

function RecordingLine({ r, templateLabel }: { r: LiveRecordingStatus; templateLabel: (id: number) => string }) {
  return (
    <div class="recording-line">
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
  );
}
