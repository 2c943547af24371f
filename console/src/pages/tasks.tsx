/** Record tasks: create one for a time window (date-time pickers), stop or delete it, list a window's tasks. */
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import type { RecordTask, RecordTemplate } from "../api/types";
import { fromDateTimeLocal, toDateTimeLocal, unixTime } from "../format";
import { Badge, ConfirmButton, Empty, ErrorBanner, Field, Notice, PageHeader, Select } from "../ui/components";
import { asApiError, useApi, useFormError, useLoad } from "../ui/hooks";

const DAY = 86_400_000;

function taskState(t: RecordTask, nowSec: number): { kind: string; label: string } {
  if (t.Stopped > 0) return { kind: "stopped", label: "stopped" };
  if (t.EndTime <= nowSec) return { kind: "closed", label: "ended" };
  if (t.StartTime > nowSec) return { kind: "pending", label: "scheduled" };
  return { kind: "recording", label: "in window" };
}

export function TasksPage() {
  const api = useApi();
  const [from, setFrom] = useState(() => toDateTimeLocal(new Date(Date.now() - DAY)));
  const [to, setTo] = useState(() => toDateTimeLocal(new Date(Date.now() + 6 * DAY - 60_000)));
  const [query, setQuery] = useState({ from, to });
  const [saved, setSaved] = useState("");
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const templates = useLoad(() => api.call<{ Templates: RecordTemplate[] }>("DescribeLiveRecordTemplates"), []);
  const tasks = useLoad(
    async () => {
      const all: RecordTask[] = [];
      let token = "";
      // Pages of the window until the server has no more (bounded).
      for (let i = 0; i < 20; i++) {
        const r = await api.call<{ TaskList: RecordTask[]; ScrollToken: string }>("DescribeRecordTask", {
          StartTime: fromDateTimeLocal(query.from) ?? 0,
          EndTime: fromDateTimeLocal(query.to) ?? 0,
          ...(token ? { ScrollToken: token } : {}),
        });
        all.push(...r.TaskList);
        token = r.ScrollToken;
        if (!token) break;
      }
      return all;
    },
    [query],
    5000,
  );
  const names = new Map((templates.data?.Templates ?? []).map((t) => [t.TemplateId, t.TemplateName]));
  const nowSec = Date.now() / 1000;

  return (
    <section>
      <PageHeader title="Record tasks" />
      <p class="muted">
        Every push of the stream inside a task's window is recorded with the task's template (HLS when it has none), besides what its rule records. Stop is final and waits for the files; Delete hides the task and lets a
        running recording go on.
      </p>
      <TaskForm
        templates={templates.data?.Templates ?? []}
        onCreated={async (msg) => {
          setSaved(msg);
          await tasks.reload();
        }}
      />
      <form
        class="filters"
        aria-label="Task window"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ from, to });
        }}
      >
        <Field label="Window from" type="datetime-local" name="from" value={from} onValue={setFrom} />
        <Field label="to (at most 7 days later)" type="datetime-local" name="to" value={to} onValue={setTo} />
        <button type="submit" class="btn">
          Show
        </button>
      </form>
      <ErrorBanner error={tasks.error ?? actionError} />
      {saved && <Notice>{saved}</Notice>}
      {tasks.data && tasks.data.length === 0 && <Empty>No task in this window.</Empty>}
      {tasks.data && tasks.data.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Stream</th>
              <th>Window</th>
              <th>Template</th>
              <th>State</th>
              <th>Task ID</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tasks.data.map((t) => {
              const st = taskState(t, nowSec);
              return (
                <tr key={t.TaskId} data-task={t.TaskId}>
                  <td class="mono">
                    {t.DomainName}/{t.AppName}/{t.StreamName}
                    {t.Extension && <div class="muted small">{t.Extension}</div>}
                  </td>
                  <td class="small">
                    {unixTime(t.StartTime)} → {unixTime(t.EndTime)}
                  </td>
                  <td>{t.TemplateId === 0 ? <span class="muted">none (HLS)</span> : `#${t.TemplateId} ${names.get(t.TemplateId) ?? ""}`}</td>
                  <td>
                    <Badge kind={st.kind}>{st.label}</Badge>
                    {t.Stopped > 0 && <div class="muted small">at {unixTime(t.Stopped)}</div>}
                  </td>
                  <td class="mono small" title={t.TaskId}>
                    {t.TaskId.slice(0, 12)}…
                  </td>
                  <td class="actions">
                    <ConfirmButton
                      label="Stop"
                      confirmLabel="Stop for good"
                      disabled={t.Stopped > 0 || t.EndTime <= nowSec}
                      onConfirm={async () => {
                        setActionError(undefined);
                        setSaved("");
                        try {
                          await api.call("StopRecordTask", { TaskId: t.TaskId });
                          setSaved("Task stopped.");
                        } catch (err) {
                          setActionError(asApiError(err));
                        }
                        await tasks.reload();
                      }}
                    />
                    <ConfirmButton
                      label="Delete"
                      danger
                      onConfirm={async () => {
                        setActionError(undefined);
                        setSaved("");
                        try {
                          await api.call("DeleteRecordTask", { TaskId: t.TaskId });
                          setSaved("Task deleted.");
                        } catch (err) {
                          setActionError(asApiError(err));
                        }
                        await tasks.reload();
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

function TaskForm({ templates, onCreated }: { templates: RecordTemplate[]; onCreated: (message: string) => Promise<void> }) {
  const api = useApi();
  const [domain, setDomain] = useState(location.hostname);
  const [app, setApp] = useState("live");
  const [stream, setStream] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState(() => toDateTimeLocal(new Date(Date.now() + 3_600_000)));
  const [templateId, setTemplateId] = useState("0");
  const [extension, setExtension] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  return (
    <form
      class="panel form"
      aria-label="New task"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        form.setError(undefined);
        try {
          const body: Record<string, unknown> = { DomainName: domain, AppName: app, StreamName: stream, TemplateId: Number(templateId) };
          const startSec = fromDateTimeLocal(start);
          const endSec = fromDateTimeLocal(end);
          if (startSec !== undefined) body.StartTime = startSec;
          if (endSec !== undefined) body.EndTime = endSec;
          if (extension) body.Extension = extension;
          const r = await api.call<{ TaskId: string }>("CreateRecordTask", body);
          await onCreated(`Task ${r.TaskId} created.`);
        } catch (err) {
          form.setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>New task</h2>
      <ErrorBanner error={form.error} />
      <div class="grid four">
        <Field label="Domain" name="DomainName" value={domain} onValue={setDomain} error={form.about("DomainName")} />
        <Field label="App" name="AppName" value={app} onValue={setApp} error={form.about("AppName")} />
        <Field label="Stream" name="StreamName" value={stream} onValue={setStream} error={form.about("StreamName")} />
        <Select
          label="Template"
          name="TemplateId"
          value={templateId}
          onValue={setTemplateId}
          options={[{ value: "0", label: "none (record HLS)" }, ...templates.map((t) => ({ value: String(t.TemplateId), label: `#${t.TemplateId} ${t.TemplateName}` }))]}
          error={form.about("TemplateId")}
        />
        <Field label="Start (empty = now)" type="datetime-local" name="StartTime" value={start} onValue={setStart} error={form.about("StartTime")} />
        <Field label="End" type="datetime-local" name="EndTime" value={end} onValue={setEnd} error={form.about("EndTime")} hint="within 7 days, at most 24 h after the start" />
        <Field label="Extension" name="Extension" value={extension} onValue={setExtension} error={form.about("Extension")} />
        <div class="form-actions bottom">
          <button type="submit" class="btn primary" disabled={busy}>
            Create task
          </button>
        </div>
      </div>
    </form>
  );
}
