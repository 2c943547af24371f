/** Record tasks: create one for a time window (date-time pickers), stop or delete it, list a window's tasks. */
import { useState } from "preact/hooks";
import type { RecordTask, RecordTemplate } from "../api/types";
import { fromDateTimeLocal, toDateTimeLocal, unixTime } from "../format";
import { Badge, ConfirmButton, ErrorBanner, Field, PageHeader, Select } from "../ui/components";
import { useAction, useApi, useFormError, useLoad } from "../ui/hooks";
import { ResourceTable } from "../ui/resource-table";
import { templateNames, templateOption, useRecordTemplates } from "../ui/templates-and-rules";

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
  const templates = useRecordTemplates();
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
  const action = useAction(tasks.reload);
  const names = templateNames(templates.data?.Templates);
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
          action.setNotice(msg);
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
      <ResourceTable
        rows={tasks.data}
        error={tasks.error ?? action.error}
        notice={action.notice}
        empty="No task in this window."
        rowKey={(t) => t.TaskId}
        rowAttributes={(t) => ({ "data-task": t.TaskId })}
        columns={[
          {
            header: "Stream",
            class: "mono",
            cell: (t) => (
              <>
                {t.DomainName}/{t.AppName}/{t.StreamName}
                {t.Extension && <div class="muted small">{t.Extension}</div>}
              </>
            ),
          },
          {
            header: "Window",
            class: "small",
            cell: (t) => (
              <>
                {unixTime(t.StartTime)} → {unixTime(t.EndTime)}
              </>
            ),
          },
          { header: "Template", cell: (t) => (t.TemplateId === 0 ? <span class="muted">none (HLS)</span> : `#${t.TemplateId} ${names.get(t.TemplateId) ?? ""}`) },
          {
            header: "State",
            cell: (t) => {
              const st = taskState(t, nowSec);
              return (
                <>
                  <Badge kind={st.kind}>{st.label}</Badge>
                  {t.Stopped > 0 && <div class="muted small">at {unixTime(t.Stopped)}</div>}
                </>
              );
            },
          },
          { header: "Task ID", class: "mono small", title: (t) => t.TaskId, cell: (t) => <>{t.TaskId.slice(0, 12)}…</> },
          {
            class: "actions",
            cell: (t) => (
              <>
                <ConfirmButton
                  label="Stop"
                  confirmLabel="Stop for good"
                  disabled={t.Stopped > 0 || t.EndTime <= nowSec}
                  onConfirm={() => action.run(() => api.call("StopRecordTask", { TaskId: t.TaskId }), "Task stopped.")}
                />
                <ConfirmButton label="Delete" danger onConfirm={() => action.run(() => api.call("DeleteRecordTask", { TaskId: t.TaskId }), "Task deleted.")} />
              </>
            ),
          },
        ]}
      />
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
  const form = useFormError();
  return (
    <form
      class="panel form"
      aria-label="New task"
      onSubmit={form.submit(async () => {
        const body: Record<string, unknown> = { DomainName: domain, AppName: app, StreamName: stream, TemplateId: Number(templateId) };
        const startSec = fromDateTimeLocal(start);
        const endSec = fromDateTimeLocal(end);
        if (startSec !== undefined) body.StartTime = startSec;
        if (endSec !== undefined) body.EndTime = endSec;
        if (extension) body.Extension = extension;
        const r = await api.call<{ TaskId: string }>("CreateRecordTask", body);
        await onCreated(`Task ${r.TaskId} created.`);
      })}
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
          options={[{ value: "0", label: "none (record HLS)" }, ...templates.map(templateOption)]}
          error={form.about("TemplateId")}
        />
        <Field label="Start (empty = now)" type="datetime-local" name="StartTime" value={start} onValue={setStart} error={form.about("StartTime")} />
        <Field label="End" type="datetime-local" name="EndTime" value={end} onValue={setEnd} error={form.about("EndTime")} hint="within 7 days, at most 24 h after the start" />
        <Field label="Extension" name="Extension" value={extension} onValue={setExtension} error={form.about("Extension")} />
        <div class="form-actions bottom">
          <button type="submit" class="btn primary" disabled={form.busy}>
            Create task
          </button>
        </div>
      </div>
    </form>
  );
}
