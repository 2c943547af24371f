/** Callback delivery (pending / delivered / failed with the last error, retry), and callback templates and rules. */
import { useState } from "preact/hooks";
import { type CallbackDelivery, type CallbackRule, type CallbackTemplate, type DeliveryStatus, NOTIFY_URL_FIELDS, type NotifyUrlField } from "../api/types";
import { unixTime } from "../format";
import { Badge, ConfirmButton, ErrorBanner, Field, PageHeader } from "../ui/components";
import { useAction, useApi, useFormError, useLoad } from "../ui/hooks";
import { Pager, ResourceTable } from "../ui/resource-table";
import { boundTemplateColumn, domainColumn, RuleForm, templateColumns, templateNames } from "../ui/templates-and-rules";

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
  const action = useAction(list.reload);
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
      <ResourceTable
        rows={list.data?.DeliverySet}
        error={list.error ?? action.error}
        notice={action.notice}
        empty={`No delivery${status ? ` ${status}` : ""}.`}
        class="deliveries"
        rowKey={(d) => d.DeliveryId}
        rowAttributes={(d) => ({ "data-delivery": d.DeliveryId, "data-status": d.Status })}
        columns={[
          { header: "ID", class: "num", cell: (d) => d.DeliveryId },
          {
            header: "Event",
            cell: (d) => (
              <>
                <div>
                  {d.EventType} {EVENT_NAMES[d.EventType] ?? ""}
                </div>
                <div class="muted small">{describeEvent(d.Body)}</div>
                {d.FileId && <div class="muted small mono">file {d.FileId}</div>}
              </>
            ),
          },
          { header: "Receiver", class: "mono small url", cell: (d) => d.Url },
          {
            header: "Status",
            cell: (d) => (
              <>
                <Badge kind={d.Status}>{d.Status}</Badge>
                {d.Status === "pending" && d.NextAttemptTime > 0 && <div class="muted small">next {unixTime(d.NextAttemptTime)}</div>}
                {d.Status === "delivered" && <div class="muted small">{unixTime(d.DeliveredTime)}</div>}
              </>
            ),
          },
          { header: "Attempts", class: "num", cell: (d) => d.Attempts },
          { header: "Last error", class: "small last-error", cell: (d) => d.LastError || <span class="muted">none</span> },
          { header: "Created", class: "small", cell: (d) => unixTime(d.CreateTime) },
          {
            class: "actions",
            cell: (d) =>
              d.Status !== "delivered" && (
                <button
                  type="button"
                  class="btn"
                  onClick={async () => {
                    await action.run(() => api.call("RetryCallbackDelivery", { DeliveryId: d.DeliveryId }), `Delivery ${d.DeliveryId} queued again.`);
                    // The send happens in the background: look again shortly.
                    setTimeout(() => void list.reload(), 800);
                  }}
                >
                  {d.Status === "failed" ? "Retry" : "Send now"}
                </button>
              ),
          },
        ]}
      />
      {total > PAGE_SIZE && <Pager offset={offset} count={rows.length} total={total} pageSize={PAGE_SIZE} onOffset={setOffset} />}
    </div>
  );
}

function CallbackTemplates() {
  const api = useApi();
  const templates = useLoad(() => api.call<{ Templates: CallbackTemplate[] }>("DescribeLiveCallbackTemplates"), []);
  const rules = useLoad(() => api.call<{ Rules: CallbackRule[] }>("DescribeLiveCallbackRules"), []);
  const action = useAction(() => Promise.all([templates.reload(), rules.reload()]));
  const list = templates.data?.Templates ?? [];
  const names = templateNames(list);

  return (
    <div>
      <h2>Callback templates and rules</h2>
      <p class="muted">
        A domain's (and app's) callback rule picks the template whose URLs receive its events; streams without one use the config's <code>callbacks</code>.
      </p>
      <ResourceTable
        rows={list}
        error={templates.error ?? rules.error ?? action.error}
        notice={action.notice}
        rowKey={(t) => t.TemplateId}
        columns={[
          ...templateColumns<CallbackTemplate>(),
          {
            header: "URLs",
            class: "small",
            cell: (t) =>
              NOTIFY_URL_FIELDS.filter((f) => t[f]).map((f) => (
                <div key={f}>
                  <span class="muted">{f}</span> <span class="mono">{t[f]}</span>
                </div>
              )),
          },
          { header: "Key", cell: (t) => (t.CallbackKey ? "set" : <span class="muted">none</span>) },
          {
            class: "actions",
            cell: (t) => <ConfirmButton label="Delete" danger onConfirm={() => action.run(() => api.call("DeleteLiveCallbackTemplate", { TemplateId: t.TemplateId }), `Callback template ${t.TemplateName} deleted.`)} />,
          },
        ]}
      />
      <CallbackTemplateForm onCreated={() => action.run(async () => undefined, "Callback template created.")} />
      <ResourceTable
        rows={rules.data?.Rules ?? []}
        rowKey={(r) => `${r.DomainName}/${r.AppName}`}
        columns={[
          domainColumn(),
          { header: "App", cell: (r) => r.AppName || <span class="muted">any</span> },
          boundTemplateColumn(names),
          { header: "Created", class: "small", cell: (r) => r.CreateTime },
          {
            class: "actions",
            cell: (r) => <ConfirmButton label="Unbind" danger onConfirm={() => action.run(() => api.call("DeleteLiveCallbackRule", { DomainName: r.DomainName, AppName: r.AppName }), "Callback rule deleted.")} />,
          },
        ]}
      />
      <RuleForm
        title="New callback rule"
        heading="h3"
        class="panel form"
        grid="grid four"
        withStream={false}
        templates={list}
        noTemplate="(create a callback template first)"
        send={async (rule) => {
          await api.call("CreateLiveCallbackRule", rule);
          await action.run(async () => undefined, "Callback rule created.");
        }}
      />
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
      onSubmit={form.submit(async () => {
        const body: Record<string, unknown> = { TemplateName: name, Description: description, CallbackKey: key };
        for (const f of NOTIFY_URL_FIELDS) if (urls[f]) body[f] = urls[f];
        await api.call("CreateLiveCallbackTemplate", body);
        setName("");
        setDescription("");
        setKey("");
        setUrls({});
        await onCreated();
      })}
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
        <button type="submit" class="btn primary" disabled={form.busy}>
          Create callback template
        </button>
      </div>
    </form>
  );
}
