/** Callback delivery (pending / delivered / failed with the last error, retry), and callback templates and rules. */
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import { type CallbackDelivery, type CallbackRule, type CallbackTemplate, type DeliveryStatus, NOTIFY_URL_FIELDS, type NotifyUrlField } from "../api/types";
import { unixTime } from "../format";
import { Badge, ConfirmButton, Empty, ErrorBanner, Field, Notice, PageHeader, Select } from "../ui/components";
import { asApiError, useApi, useFormError, useLoad } from "../ui/hooks";

const PAGE_SIZE = 20;
const EVENT_NAMES: Record<number, string> = { 100: "recording file", 332: "recording status" };

/** What an event is about, from its body: the stream, the file's format, the status event. */
function describeEvent(body: Record<string, unknown>): string {
  const text = (k: string) => (typeof body[k] === "string" || typeof body[k] === "number" ? String(body[k]) : "");
  const stream = [text("appname"), text("stream_id")].filter(Boolean).join("/");
  return [stream, text("file_format").toUpperCase(), text("record_event")].filter(Boolean).join(" · ");
}

export function CallbacksPage() {
  return (
    <section>
      <PageHeader title="Callbacks" />
      <Deliveries />
      <CallbackTemplates />
    </section>
  );
}

function Deliveries() {
  const api = useApi();
  const [status, setStatus] = useState<DeliveryStatus | "">("");
  const [offset, setOffset] = useState(0);
  const [notice, setNotice] = useState("");
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const list = useLoad(
    () =>
      api.call<{ TotalCount: number; DeliverySet: CallbackDelivery[]; Counts: Record<DeliveryStatus, number> }>("DescribeCallbackDeliveries", {
        ...(status ? { Status: status } : {}),
        Offset: offset,
        Limit: PAGE_SIZE,
      }),
    [status, offset],
    3000,
  );
  const counts = list.data?.Counts;
  const rows = list.data?.DeliverySet ?? [];
  const total = list.data?.TotalCount ?? 0;
  const tab = (s: DeliveryStatus | "", label: string, n: number | undefined) => (
    <button
      type="button"
      role="tab"
      aria-selected={status === s}
      class={status === s ? "tab active" : "tab"}
      data-status={s || "all"}
      onClick={() => {
        setStatus(s);
        setOffset(0);
      }}
    >
      {label}
      {n !== undefined && <span class="count">{n}</span>}
    </button>
  );

  return (
    <div>
      <h2>Deliveries</h2>
      <p class="muted">
        Every event is written to an outbox first, then POSTed; a failed attempt is retried every <code>retryIntervalSec</code> up to <code>maxRetries</code> times, then parked as failed. Receivers de-duplicate on{" "}
        <code>file_id</code>.
      </p>
      <div class="tabs" role="tablist">
        {tab("", "All", counts ? counts.pending + counts.delivered + counts.failed : undefined)}
        {tab("pending", "Pending", counts?.pending)}
        {tab("delivered", "Delivered", counts?.delivered)}
        {tab("failed", "Failed", counts?.failed)}
      </div>
      <ErrorBanner error={list.error ?? actionError} />
      {notice && <Notice>{notice}</Notice>}
      {list.data && rows.length === 0 && <Empty>No delivery{status ? ` ${status}` : ""}.</Empty>}
      {rows.length > 0 && (
        <table class="table deliveries">
          <thead>
            <tr>
              <th>ID</th>
              <th>Event</th>
              <th>Receiver</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Last error</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.DeliveryId} data-delivery={d.DeliveryId} data-status={d.Status}>
                <td class="num">{d.DeliveryId}</td>
                <td>
                  <div>
                    {d.EventType} {EVENT_NAMES[d.EventType] ?? ""}
                  </div>
                  <div class="muted small">{describeEvent(d.Body)}</div>
                  {d.FileId && <div class="muted small mono">file {d.FileId}</div>}
                </td>
                <td class="mono small url">{d.Url}</td>
                <td>
                  <Badge kind={d.Status}>{d.Status}</Badge>
                  {d.Status === "pending" && d.NextAttemptTime > 0 && <div class="muted small">next {unixTime(d.NextAttemptTime)}</div>}
                  {d.Status === "delivered" && <div class="muted small">{unixTime(d.DeliveredTime)}</div>}
                </td>
                <td class="num">{d.Attempts}</td>
                <td class="small last-error">{d.LastError || <span class="muted">none</span>}</td>
                <td class="small">{unixTime(d.CreateTime)}</td>
                <td class="actions">
                  {d.Status !== "delivered" && (
                    <button
                      type="button"
                      class="btn"
                      onClick={async () => {
                        setActionError(undefined);
                        setNotice("");
                        try {
                          await api.call("RetryCallbackDelivery", { DeliveryId: d.DeliveryId });
                          setNotice(`Delivery ${d.DeliveryId} queued again.`);
                        } catch (err) {
                          setActionError(asApiError(err));
                        }
                        await list.reload();
                        // The send happens in the background: look again shortly.
                        setTimeout(() => void list.reload(), 800);
                      }}
                    >
                      {d.Status === "failed" ? "Retry" : "Send now"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {total > PAGE_SIZE && (
        <div class="pager">
          <span class="muted small">
            {offset + 1}–{offset + rows.length} of {total}
          </span>
          <button type="button" class="btn" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            Previous
          </button>
          <button type="button" class="btn" disabled={offset + rows.length >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
            Next
          </button>
        </div>
      )}
    </div>
  );
}

function CallbackTemplates() {
  const api = useApi();
  const templates = useLoad(() => api.call<{ Templates: CallbackTemplate[] }>("DescribeLiveCallbackTemplates"), []);
  const rules = useLoad(() => api.call<{ Rules: CallbackRule[] }>("DescribeLiveCallbackRules"), []);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const list = templates.data?.Templates ?? [];
  const names = new Map(list.map((t) => [t.TemplateId, t.TemplateName]));
  const act = async (what: () => Promise<unknown>, done: string) => {
    setActionError(undefined);
    setNotice("");
    try {
      await what();
      setNotice(done);
    } catch (err) {
      setActionError(asApiError(err));
    }
    await Promise.all([templates.reload(), rules.reload()]);
  };

  return (
    <div>
      <h2>Callback templates and rules</h2>
      <p class="muted">
        A domain's (and app's) callback rule picks the template whose URLs receive its events; streams without one use the config's <code>callbacks</code>.
      </p>
      <ErrorBanner error={templates.error ?? rules.error ?? actionError} />
      {notice && <Notice>{notice}</Notice>}
      {list.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>ID</th>
              <th>Name</th>
              <th>URLs</th>
              <th>Key</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.TemplateId}>
                <td class="num">{t.TemplateId}</td>
                <td>
                  <div class="strong">{t.TemplateName}</div>
                  {t.Description && <div class="muted small">{t.Description}</div>}
                </td>
                <td class="small">
                  {NOTIFY_URL_FIELDS.filter((f) => t[f]).map((f) => (
                    <div key={f}>
                      <span class="muted">{f}</span> <span class="mono">{t[f]}</span>
                    </div>
                  ))}
                </td>
                <td>{t.CallbackKey ? "set" : <span class="muted">none</span>}</td>
                <td class="actions">
                  <ConfirmButton label="Delete" danger onConfirm={() => act(() => api.call("DeleteLiveCallbackTemplate", { TemplateId: t.TemplateId }), `Callback template ${t.TemplateName} deleted.`)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CallbackTemplateForm onCreated={() => act(async () => undefined, "Callback template created.")} />
      {(rules.data?.Rules ?? []).length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Domain</th>
              <th>App</th>
              <th>Template</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(rules.data?.Rules ?? []).map((r) => (
              <tr key={`${r.DomainName}/${r.AppName}`}>
                <td class="mono">{r.DomainName}</td>
                <td>{r.AppName || <span class="muted">any</span>}</td>
                <td>
                  #{r.TemplateId} {names.get(r.TemplateId) ?? ""}
                </td>
                <td class="small">{r.CreateTime}</td>
                <td class="actions">
                  <ConfirmButton label="Unbind" danger onConfirm={() => act(() => api.call("DeleteLiveCallbackRule", { DomainName: r.DomainName, AppName: r.AppName }), "Callback rule deleted.")} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CallbackRuleForm templates={list} onCreated={() => act(async () => undefined, "Callback rule created.")} />
    </div>
  );
}

function CallbackTemplateForm({ onCreated }: { onCreated: () => Promise<void> }) {
  const api = useApi();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [key, setKey] = useState("");
  const [urls, setUrls] = useState<Partial<Record<NotifyUrlField, string>>>({});
  const form = useFormError();
  return (
    <form
      class="panel form"
      aria-label="New callback template"
      onSubmit={async (e) => {
        e.preventDefault();
        form.setError(undefined);
        try {
          const body: Record<string, unknown> = { TemplateName: name, Description: description, CallbackKey: key };
          for (const f of NOTIFY_URL_FIELDS) if (urls[f]) body[f] = urls[f];
          await api.call("CreateLiveCallbackTemplate", body);
          setName("");
          setDescription("");
          setKey("");
          setUrls({});
          await onCreated();
        } catch (err) {
          form.setError(err);
        }
      }}
    >
      <h3>New callback template</h3>
      <ErrorBanner error={form.error} />
      <div class="grid three">
        <Field label="Name" name="TemplateName" value={name} onValue={setName} error={form.about("TemplateName")} />
        <Field label="Description" name="Description" value={description} onValue={setDescription} error={form.about("Description")} />
        <Field label="CallbackKey" name="CallbackKey" value={key} onValue={setKey} error={form.about("CallbackKey")} hint="signs events: sign = md5(key + t)" />
        {NOTIFY_URL_FIELDS.slice(0, 2).map((f) => (
          <Field key={f} label={f} name={f} value={urls[f] ?? ""} onValue={(v) => setUrls({ ...urls, [f]: v })} error={form.about(f)} placeholder="http://receiver.example/hook" />
        ))}
      </div>
      <details>
        <summary class="small">Other notify URLs (stored; this service sends recording events only)</summary>
        <div class="grid three">
          {NOTIFY_URL_FIELDS.slice(2).map((f) => (
            <Field key={f} label={f} name={f} value={urls[f] ?? ""} onValue={(v) => setUrls({ ...urls, [f]: v })} error={form.about(f)} />
          ))}
        </div>
      </details>
      <div class="form-actions">
        <button type="submit" class="btn primary">
          Create callback template
        </button>
      </div>
    </form>
  );
}

function CallbackRuleForm({ templates, onCreated }: { templates: CallbackTemplate[]; onCreated: () => Promise<void> }) {
  const api = useApi();
  const [domain, setDomain] = useState(location.hostname);
  const [app, setApp] = useState("");
  const [templateId, setTemplateId] = useState("");
  const form = useFormError();
  const chosen = templateId || String(templates[0]?.TemplateId ?? "");
  return (
    <form
      class="panel form"
      aria-label="New callback rule"
      onSubmit={async (e) => {
        e.preventDefault();
        form.setError(undefined);
        try {
          await api.call("CreateLiveCallbackRule", { DomainName: domain, AppName: app, TemplateId: chosen === "" ? 0 : Number(chosen) });
          await onCreated();
        } catch (err) {
          form.setError(err);
        }
      }}
    >
      <h3>New callback rule</h3>
      <ErrorBanner error={form.error} />
      <div class="grid four">
        <Field label="Domain" name="DomainName" value={domain} onValue={setDomain} error={form.about("DomainName")} />
        <Field label="App" name="AppName" value={app} onValue={setApp} error={form.about("AppName")} hint="empty = any" />
        <Select
          label="Template"
          name="TemplateId"
          value={chosen}
          onValue={setTemplateId}
          options={templates.length === 0 ? [{ value: "", label: "(create a callback template first)" }] : templates.map((t) => ({ value: String(t.TemplateId), label: `#${t.TemplateId} ${t.TemplateName}` }))}
          error={form.about("TemplateId")}
        />
        <div class="form-actions bottom">
          <button type="submit" class="btn primary">
            Bind
          </button>
        </div>
      </div>
    </form>
  );
}
