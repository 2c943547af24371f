/**
 * What the recording and the callback pages share about templates and the
 * rules that bind them: the table columns, the template picker and the form
 * that binds a template to a domain, an app (and a stream).
 */
import { useState } from "preact/hooks";
import type { RecordTemplate } from "../api/types";
import { ErrorBanner, Field, Select } from "./components";
import { useApi, useFormError, useLoad } from "./hooks";
import type { Column } from "./resource-table";

interface TemplateLike {
  TemplateId: number;
  TemplateName: string;
  Description: string;
}

/** The recording templates, loaded once (pages that name or pick them). */
export function useRecordTemplates() {
  const api = useApi();
  return useLoad(() => api.call<{ Templates: RecordTemplate[] }>("DescribeLiveRecordTemplates"), []);
}

/** Template names by ID. */
export function templateNames(templates: { TemplateId: number; TemplateName: string }[] | undefined): Map<number, string> {
  return new Map((templates ?? []).map((t) => [t.TemplateId, t.TemplateName]));
}

export function templateOption(t: { TemplateId: number; TemplateName: string }): { value: string; label: string } {
  return { value: String(t.TemplateId), label: `#${t.TemplateId} ${t.TemplateName}` };
}

/** ID and name (with the description under it) of a template row. */
export function templateColumns<T extends TemplateLike>(): Column<T>[] {
  return [
    { header: "ID", class: "num", cell: (t) => t.TemplateId },
    {
      header: "Name",
      cell: (t) => (
        <>
          <div class="strong">{t.TemplateName}</div>
          {t.Description && <div class="muted small">{t.Description}</div>}
        </>
      ),
    },
  ];
}

/** The domain of a rule row. */
export function domainColumn<T extends { DomainName: string }>(): Column<T> {
  return { header: "Domain", class: "mono", cell: (r) => r.DomainName };
}

/** The template a rule binds: "#ID name". */
export function boundTemplateColumn<T extends { TemplateId: number }>(names: Map<number, string>): Column<T> {
  return {
    header: "Template",
    cell: (r) => (
      <>
        #{r.TemplateId} {names.get(r.TemplateId) ?? ""}
      </>
    ),
  };
}

export interface RuleDraft {
  DomainName: string;
  AppName: string;
  /** Only for forms with a stream field. */
  StreamName?: string;
  TemplateId: number;
}

interface RuleFormProps {
  /** The form's accessible name and heading. */
  title: string;
  heading: "h2" | "h3";
  class: string;
  grid: string;
  withStream: boolean;
  domainHint?: string;
  templates: { TemplateId: number; TemplateName: string }[];
  /** The picker's only option while there is no template. */
  noTemplate: string;
  /** Sends the rule (throws the API's error). */
  send: (rule: RuleDraft) => Promise<void>;
}

/** Binds a template to a domain, an app ("" = any) and, for recording rules, a stream. */
export function RuleForm(p: RuleFormProps) {
  const [domain, setDomain] = useState(location.hostname);
  const [app, setApp] = useState("");
  const [stream, setStream] = useState("");
  const [templateId, setTemplateId] = useState("");
  const form = useFormError();
  const chosen = templateId || String(p.templates[0]?.TemplateId ?? "");
  const Heading = p.heading;
  return (
    <form
      class={p.class}
      aria-label={p.title}
      onSubmit={form.submit(() => p.send({ DomainName: domain, AppName: app, ...(p.withStream ? { StreamName: stream } : {}), TemplateId: chosen === "" ? 0 : Number(chosen) }))}
    >
      <Heading>{p.title}</Heading>
      <ErrorBanner error={form.error} />
      <div class={p.grid}>
        <Field label="Domain" name="DomainName" value={domain} onValue={setDomain} error={form.about("DomainName")} hint={p.domainHint} />
        <Field label="App" name="AppName" value={app} onValue={setApp} error={form.about("AppName")} hint="empty = any" />
        {p.withStream && <Field label="Stream" name="StreamName" value={stream} onValue={setStream} error={form.about("StreamName")} hint="empty = any" />}
        <Select
          label="Template"
          name="TemplateId"
          value={chosen}
          onValue={setTemplateId}
          options={p.templates.length === 0 ? [{ value: "", label: p.noTemplate }] : p.templates.map(templateOption)}
          error={form.about("TemplateId")}
        />
        <div class="form-actions bottom">
          <button type="submit" class="btn primary" disabled={form.busy}>
            Bind
          </button>
        </div>
      </div>
    </form>
  );
}
