/** Recording rules: bind a template to a domain, app and stream; unbind. */
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client";
import type { RecordRule, RecordTemplate } from "../api/types";
import { ConfirmButton, Empty, ErrorBanner, Field, Notice, PageHeader, Select } from "../ui/components";
import { asApiError, useApi, useFormError, useLoad } from "../ui/hooks";

const any = (s: string) => (s === "" ? <span class="muted">any</span> : <span class="mono">{s}</span>);

export function RulesPage() {
  const api = useApi();
  const rules = useLoad(() => api.call<{ Rules: RecordRule[] }>("DescribeLiveRecordRules"), []);
  const templates = useLoad(() => api.call<{ Templates: RecordTemplate[] }>("DescribeLiveRecordTemplates"), []);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const [saved, setSaved] = useState("");
  const names = new Map((templates.data?.Templates ?? []).map((t) => [t.TemplateId, t.TemplateName]));
  const list = rules.data?.Rules ?? [];

  return (
    <section>
      <PageHeader title="Recording rules" />
      <p class="muted">
        A push is recorded with the template of the most specific rule: domain + stream, then stream, then domain; an exact app beats "any" in the same row. The rule is read when a push starts. A push no rule
        matches uses the config's <code>recordTemplate</code>.
      </p>
      <RuleForm
        templates={templates.data?.Templates ?? []}
        onCreated={async (msg) => {
          setSaved(msg);
          await rules.reload();
        }}
      />
      <ErrorBanner error={rules.error ?? actionError} />
      {saved && <Notice>{saved}</Notice>}
      {rules.data && list.length === 0 && <Empty>No rule yet.</Empty>}
      {list.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Domain</th>
              <th>App</th>
              <th>Stream</th>
              <th>Template</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={`${r.DomainName}/${r.AppName}/${r.StreamName}`} data-rule={`${r.DomainName}/${r.AppName}/${r.StreamName}`}>
                <td class="mono">{r.DomainName}</td>
                <td>{any(r.AppName)}</td>
                <td>{any(r.StreamName)}</td>
                <td>
                  #{r.TemplateId} {names.get(r.TemplateId) ?? ""}
                </td>
                <td class="small">{r.CreateTime} <span class="muted">(UTC+8)</span></td>
                <td class="actions">
                  <ConfirmButton
                    label="Unbind"
                    danger
                    onConfirm={async () => {
                      setActionError(undefined);
                      setSaved("");
                      try {
                        await api.call("DeleteLiveRecordRule", { DomainName: r.DomainName, AppName: r.AppName, StreamName: r.StreamName });
                        setSaved("Rule deleted.");
                      } catch (err) {
                        setActionError(asApiError(err));
                      }
                      await rules.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function RuleForm({ templates, onCreated }: { templates: RecordTemplate[]; onCreated: (message: string) => Promise<void> }) {
  const api = useApi();
  const [domain, setDomain] = useState(location.hostname);
  const [app, setApp] = useState("");
  const [stream, setStream] = useState("");
  const [templateId, setTemplateId] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormError();
  const chosen = templateId || String(templates[0]?.TemplateId ?? "");
  return (
    <form
      class="panel form inline-form"
      aria-label="New rule"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        form.setError(undefined);
        try {
          await api.call("CreateLiveRecordRule", { DomainName: domain, AppName: app, StreamName: stream, TemplateId: chosen === "" ? 0 : Number(chosen) });
          await onCreated(`Rule ${domain}/${app || "*"}/${stream || "*"} created.`);
        } catch (err) {
          form.setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>New rule</h2>
      <ErrorBanner error={form.error} />
      <div class="grid five">
        <Field label="Domain" name="DomainName" value={domain} onValue={setDomain} error={form.about("DomainName")} hint="the host of the push URL" />
        <Field label="App" name="AppName" value={app} onValue={setApp} error={form.about("AppName")} hint="empty = any" />
        <Field label="Stream" name="StreamName" value={stream} onValue={setStream} error={form.about("StreamName")} hint="empty = any" />
        <Select
          label="Template"
          name="TemplateId"
          value={chosen}
          onValue={setTemplateId}
          options={templates.length === 0 ? [{ value: "", label: "(create a template first)" }] : templates.map((t) => ({ value: String(t.TemplateId), label: `#${t.TemplateId} ${t.TemplateName}` }))}
          error={form.about("TemplateId")}
        />
        <div class="form-actions bottom">
          <button type="submit" class="btn primary" disabled={busy}>
            Bind
          </button>
        </div>
      </div>
    </form>
  );
}
