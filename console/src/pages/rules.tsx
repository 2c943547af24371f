/** Recording rules: bind a template to a domain, app and stream; unbind. */
import type { RecordRule } from "../api/types";
import { ConfirmButton, PageHeader } from "../ui/components";
import { useAction, useApi, useLoad } from "../ui/hooks";
import { ResourceTable } from "../ui/resource-table";
import { boundTemplateColumn, domainColumn, RuleForm, templateNames, useRecordTemplates } from "../ui/templates-and-rules";

const any = (s: string) => (s === "" ? <span class="muted">any</span> : <span class="mono">{s}</span>);
const ruleKey = (r: RecordRule) => `${r.DomainName}/${r.AppName}/${r.StreamName}`;

export function RulesPage() {
  const api = useApi();
  const rules = useLoad(() => api.call<{ Rules: RecordRule[] }>("DescribeLiveRecordRules"), []);
  const templates = useRecordTemplates();
  const action = useAction(rules.reload);
  const names = templateNames(templates.data?.Templates);

  return (
    <section>
      <PageHeader title="Recording rules" />
      <p class="muted">
        A push is recorded with the template of the most specific rule: domain + stream, then stream, then domain; an exact app beats "any" in the same row. The rule is read when a push starts. A push no rule
        matches uses the config's <code>recordTemplate</code>.
      </p>
      <RuleForm
        title="New rule"
        heading="h2"
        class="panel form inline-form"
        grid="grid five"
        withStream
        domainHint="the host of the push URL"
        templates={templates.data?.Templates ?? []}
        noTemplate="(create a template first)"
        send={async (rule) => {
          await api.call("CreateLiveRecordRule", rule);
          action.setNotice(`Rule ${rule.DomainName}/${rule.AppName || "*"}/${rule.StreamName || "*"} created.`);
          await rules.reload();
        }}
      />
      <ResourceTable
        rows={rules.data?.Rules}
        error={rules.error ?? action.error}
        notice={action.notice}
        empty="No rule yet."
        rowKey={ruleKey}
        rowAttributes={(r) => ({ "data-rule": ruleKey(r) })}
        columns={[
          domainColumn(),
          { header: "App", cell: (r) => any(r.AppName) },
          { header: "Stream", cell: (r) => any(r.StreamName) },
          boundTemplateColumn(names),
          {
            header: "Created",
            class: "small",
            cell: (r) => (
              <>
                {r.CreateTime} <span class="muted">(UTC+8)</span>
              </>
            ),
          },
          {
            class: "actions",
            cell: (r) => (
              <ConfirmButton
                label="Unbind"
                danger
                onConfirm={() => action.run(() => api.call("DeleteLiveRecordRule", { DomainName: r.DomainName, AppName: r.AppName, StreamName: r.StreamName }), "Rule deleted.")}
              />
            ),
          },
        ]}
      />
    </section>
  );
}
