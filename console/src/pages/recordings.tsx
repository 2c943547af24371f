/** Recordings: search (stream, time range, format), play in the page, download, delete. */
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import type { MediaInfo } from "../api/types";
import { bytes, codec, dateTime, FORMAT_LABEL, isoFromDateTimeLocal, seconds } from "../format";
import { Badge, ConfirmButton, Empty, ErrorBanner, Field, Notice, PageHeader, Select } from "../ui/components";
import { asApiError, useApi, useLoad } from "../ui/hooks";
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
  const [notice, setNotice] = useState("");
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const result = useLoad(() => api.call<{ TotalCount: number; MediaInfoSet: MediaInfo[] }>("SearchMedia", searchRequest(query)), [query]);
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
          setNotice("");
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
      <ErrorBanner error={result.error ?? actionError} />
      {notice && <Notice>{notice}</Notice>}
      {result.data && items.length === 0 && <Empty>No recording matches.</Empty>}
      {items.length > 0 && (
        <>
          <table class="table recordings">
            <thead>
              <tr>
                <th>File</th>
                <th>Stream</th>
                <th>Format</th>
                <th>Recorded</th>
                <th>Length</th>
                <th>Size</th>
                <th>Media</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((m) => {
                const info = m.BasicInfo.SourceInfo.LiveRecordInfo;
                // An AAC file holds the audio only, whatever the stream carried.
                const v = m.BasicInfo.Type === "aac" ? undefined : m.MetaData.VideoStreamSet[0];
                const a = m.MetaData.AudioStreamSet[0];
                return (
                  <tr key={m.FileId} data-file-id={m.FileId} data-type={m.BasicInfo.Type} class={playing?.FileId === m.FileId ? "selected" : undefined}>
                    <td class="mono small file-name" title={m.BasicInfo.MediaUrl}>
                      {m.BasicInfo.Name}.{m.BasicInfo.Type}
                    </td>
                    <td class="mono small">
                      {info.Domain}/{info.Path}/{info.StreamId}
                    </td>
                    <td>
                      <Badge kind="format">{FORMAT_LABEL[m.BasicInfo.Type] ?? m.BasicInfo.Type}</Badge>
                    </td>
                    <td class="small">{dateTime(info.RecordStartTime)}</td>
                    <td class="num">{seconds(m.MetaData.Duration)}</td>
                    <td class="num">{bytes(m.MetaData.Size)}</td>
                    <td class="small">
                      {v && (
                        <div>
                          {codec(v.Codec)} {v.Width > 0 && `${v.Width}×${v.Height}`}
                        </div>
                      )}
                      {a && <div>{codec(a.Codec)}</div>}
                    </td>
                    <td class="actions">
                      <button type="button" class="btn primary" onClick={() => setPlaying(m)}>
                        Play
                      </button>
                      <a class="btn" href={playableUrl(m.BasicInfo.MediaUrl)} download>
                        Download
                      </a>
                      <ConfirmButton
                        label="Delete"
                        danger
                        onConfirm={async () => {
                          setActionError(undefined);
                          setNotice("");
                          try {
                            await api.call("DeleteMedia", { FileId: m.FileId });
                            if (playing?.FileId === m.FileId) setPlaying(undefined);
                            setNotice(`${m.BasicInfo.Name}.${m.BasicInfo.Type} deleted.`);
                          } catch (err) {
                            setActionError(asApiError(err));
                          }
                          await result.reload();
                        }}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div class="pager">
            <span class="muted small">
              {query.offset + 1}–{query.offset + items.length} of {total}
            </span>
            <button type="button" class="btn" disabled={query.offset === 0} onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - PAGE_SIZE) })}>
              Previous
            </button>
            <button type="button" class="btn" disabled={query.offset + items.length >= total} onClick={() => setQuery({ ...query, offset: query.offset + PAGE_SIZE })}>
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
