/** Recordings: search (stream, time range, format), play in the page, download, delete. */
import { useState } from "preact/hooks";
import type { MediaInfo } from "../api/types";
import { bytes, codec, dateTime, FORMAT_LABEL, isoFromDateTimeLocal, seconds } from "../format";
import { Badge, ConfirmButton, Field, PageHeader, Select } from "../ui/components";
import { useAction, useApi, useLoad } from "../ui/hooks";
import { Pager, ResourceTable } from "../ui/resource-table";
import { Player, playableUrl } from "../ui/player";

const PAGE_SIZE = 20;

interface Query {
  stream: string;
  app: string;
  domain: string;
  from: string;
  to: string;
  type: string;
  order: "Desc" | "Asc";
  offset: number;
}

const EMPTY: Query = { stream: "", app: "", domain: "", from: "", to: "", type: "", order: "Desc", offset: 0 };

function searchRequest(q: Query): Record<string, unknown> {
  const body: Record<string, unknown> = { Offset: q.offset, Limit: PAGE_SIZE, Sort: { Field: "CreateTime", Order: q.order } };
  if (q.stream.trim()) body.StreamIds = [q.stream.trim()];
  if (q.app.trim()) body.StreamPaths = [q.app.trim()];
  if (q.domain.trim()) body.StreamDomains = [q.domain.trim()];
  if (q.type) body.MediaTypes = [q.type];
  const after = isoFromDateTimeLocal(q.from);
  const before = isoFromDateTimeLocal(q.to);
  if (after || before) body.CreateTime = { ...(after ? { After: after } : {}), ...(before ? { Before: before } : {}) };
  return body;
}

export function RecordingsPage() {
  const api = useApi();
  const [form, setForm] = useState<Query>(EMPTY);
  const [query, setQuery] = useState<Query>(EMPTY);
  const [playing, setPlaying] = useState<MediaInfo | undefined>(undefined);
  const result = useLoad(() => api.call<{ TotalCount: number; MediaInfoSet: MediaInfo[] }>("SearchMedia", searchRequest(query)), [query]);
  const action = useAction(result.reload);
  const items = result.data?.MediaInfoSet ?? [];
  const total = result.data?.TotalCount ?? 0;
  const set = (patch: Partial<Query>) => setForm({ ...form, ...patch });

  return (
    <section>
      <PageHeader title="Recordings">
        <button type="button" class="btn" onClick={() => void result.reload()}>
          Refresh
        </button>
      </PageHeader>
      {playing && <Player key={playing.FileId} media={playing} onClose={() => setPlaying(undefined)} />}
      <form
        class="filters"
        aria-label="Search recordings"
        onSubmit={(e) => {
          e.preventDefault();
          action.setNotice("");
          setQuery({ ...form, offset: 0 });
        }}
      >
        <Field label="Stream" name="stream" value={form.stream} onValue={(v) => set({ stream: v })} placeholder="exact stream name" />
        <Field label="App" name="app" value={form.app} onValue={(v) => set({ app: v })} />
        <Field label="Domain" name="domain" value={form.domain} onValue={(v) => set({ domain: v })} />
        <Field label="Created after" type="datetime-local" name="from" value={form.from} onValue={(v) => set({ from: v })} />
        <Field label="Created before" type="datetime-local" name="to" value={form.to} onValue={(v) => set({ to: v })} />
        <Select
          label="Format"
          name="type"
          value={form.type}
          onValue={(v) => set({ type: v })}
          options={[
            { value: "", label: "all" },
            { value: "m3u8", label: "HLS (m3u8)" },
            { value: "mp4", label: "MP4" },
            { value: "flv", label: "FLV" },
            { value: "aac", label: "AAC" },
          ]}
        />
        <Select
          label="Order"
          name="order"
          value={form.order}
          onValue={(v) => set({ order: v === "Asc" ? "Asc" : "Desc" })}
          options={[
            { value: "Desc", label: "newest first" },
            { value: "Asc", label: "oldest first" },
          ]}
        />
        <div class="filter-actions">
          <button type="submit" class="btn primary">
            Search
          </button>
          <button
            type="button"
            class="btn link"
            onClick={() => {
              setForm(EMPTY);
              setQuery(EMPTY);
            }}
          >
            Reset
          </button>
        </div>
      </form>
      <ResourceTable
        rows={result.data?.MediaInfoSet}
        error={result.error ?? action.error}
        notice={action.notice}
        empty="No recording matches."
        class="recordings"
        rowKey={(m) => m.FileId}
        rowAttributes={(m) => ({ "data-file-id": m.FileId, "data-type": m.BasicInfo.Type, class: playing?.FileId === m.FileId ? "selected" : undefined })}
        columns={[
          {
            header: "File",
            class: "mono small file-name",
            title: (m) => m.BasicInfo.MediaUrl,
            cell: (m) => (
              <>
                {m.BasicInfo.Name}.{m.BasicInfo.Type}
              </>
            ),
          },
          {
            header: "Stream",
            class: "mono small",
            cell: ({ BasicInfo: { SourceInfo: { LiveRecordInfo: info } } }) => (
              <>
                {info.Domain}/{info.Path}/{info.StreamId}
              </>
            ),
          },
          { header: "Format", cell: (m) => <Badge kind="format">{FORMAT_LABEL[m.BasicInfo.Type] ?? m.BasicInfo.Type}</Badge> },
          { header: "Recorded", class: "small", cell: (m) => dateTime(m.BasicInfo.SourceInfo.LiveRecordInfo.RecordStartTime) },
          { header: "Length", class: "num", cell: (m) => seconds(m.MetaData.Duration) },
          { header: "Size", class: "num", cell: (m) => bytes(m.MetaData.Size) },
          { header: "Media", class: "small", cell: mediaCell },
          {
            class: "actions",
            cell: (m) => (
              <>
                <button type="button" class="btn primary" onClick={() => setPlaying(m)}>
                  Play
                </button>
                <a class="btn" href={playableUrl(m.BasicInfo.MediaUrl)} download>
                  Download
                </a>
                <ConfirmButton
                  label="Delete"
                  danger
                  onConfirm={() =>
                    action.run(async () => {
                      await api.call("DeleteMedia", { FileId: m.FileId });
                      if (playing?.FileId === m.FileId) setPlaying(undefined);
                    }, `${m.BasicInfo.Name}.${m.BasicInfo.Type} deleted.`)
                  }
                />
              </>
            ),
          },
        ]}
      />
      {items.length > 0 && <Pager offset={query.offset} count={items.length} total={total} pageSize={PAGE_SIZE} onOffset={(offset) => setQuery({ ...query, offset })} />}
    </section>
  );
}

function mediaCell(m: MediaInfo) {
  // An AAC file holds the audio only, whatever the stream carried.
  const v = m.BasicInfo.Type === "aac" ? undefined : m.MetaData.VideoStreamSet[0];
  const a = m.MetaData.AudioStreamSet[0];
  return (
    <>
      {v && (
        <div>
          {codec(v.Codec)} {v.Width > 0 && `${v.Width}×${v.Height}`}
        </div>
      )}
      {a && <div>{codec(a.Codec)}</div>}
    </>
  );
}
