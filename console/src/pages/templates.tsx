/** Recording templates: list, create, edit (every field of the API), delete. */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { FORMAT_PARAMS, type FormatParamKey, type RecordParam, type RecordRule, type RecordTemplate } from "../api/types";
import { Badge, Check, ConfirmButton, ErrorBanner, Field, numberOrText, PageHeader, Select } from "../ui/components";
import { useAction, useApi, useFormError, useLoad } from "../ui/hooks";
import { ResourceTable } from "../ui/resource-table";
import { templateColumns, useRecordTemplates } from "../ui/templates-and-rules";
import { interval } from "../format";

const FORMAT_NAMES: Record<FormatParamKey, string> = { FlvParam: "FLV", HlsParam: "HLS", Mp4Param: "MP4", AacParam: "AAC", Mp3Param: "MP3" };
const FORMAT_NOTES: Partial<Record<FormatParamKey, string>> = {
  HlsParam: "one playlist per push; the interval does not apply",
  AacParam: "audio only, AAC streams; interval 60–7200 s",
  Mp3Param: "a cloud field, stored; this service does not record MP3",
};

interface ParamDraft {
  Enable: boolean;
  RecordInterval: string;
  StorageTime: string;
  VodFileName: string;
  VodSubAppId: string;
  Procedure: string;
  StorageMode: string;
  ClassId: string;
  CosBucketName: string;
  CosBucketRegion: string;
  CosBucketPath: string;
}

interface Draft {
  TemplateId?: number;
  TemplateName: string;
  Description: string;
  params: Record<FormatParamKey, ParamDraft>;
  FlowContinueDuration: string;
  RemoveWatermark: boolean;
  UploadInRecording: boolean;
  IsDelayLive: boolean;
  CosStore: boolean;
}

function paramDraft(p?: RecordParam): ParamDraft {
  return {
    Enable: p?.Enable === 1,
    RecordInterval: String(p?.RecordInterval ?? 1800),
    StorageTime: String(p?.StorageTime ?? 0),
    VodFileName: p?.VodFileName ?? "",
    VodSubAppId: String(p?.VodSubAppId ?? 0),
    Procedure: p?.Procedure ?? "",
    StorageMode: p?.StorageMode ?? "",
    ClassId: String(p?.ClassId ?? 0),
    CosBucketName: p?.CosBucketName ?? "",
    CosBucketRegion: p?.CosBucketRegion ?? "",
    CosBucketPath: p?.CosBucketPath ?? "",
  };
}

function draftOf(t?: RecordTemplate): Draft {
  const params = Object.fromEntries(FORMAT_PARAMS.map((k) => [k, paramDraft(t?.[k])])) as Record<FormatParamKey, ParamDraft>;
  const d: Draft = {
    TemplateName: t?.TemplateName ?? "",
    Description: t?.Description ?? "",
    params,
    FlowContinueDuration: String(t?.HlsSpecialParam.FlowContinueDuration ?? 0),
    RemoveWatermark: t?.RemoveWatermark ?? false,
    UploadInRecording: t?.FlvSpecialParam.UploadInRecording ?? false,
    IsDelayLive: t?.IsDelayLive === 1,
    CosStore: t?.CosStore === 1,
  };
  if (t) d.TemplateId = t.TemplateId;
  return d;
}

/** The API request of a draft: every field, numbers as numbers (or as typed, for the API to refuse). */
function requestOf(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = { TemplateName: d.TemplateName, Description: d.Description };
  for (const k of FORMAT_PARAMS) {
    const p = d.params[k];
    body[k] = {
      Enable: p.Enable ? 1 : 0,
      RecordInterval: numberOrText(p.RecordInterval),
      StorageTime: numberOrText(p.StorageTime),
      VodFileName: p.VodFileName,
      VodSubAppId: numberOrText(p.VodSubAppId),
      Procedure: p.Procedure,
      StorageMode: p.StorageMode,
      ClassId: numberOrText(p.ClassId),
      CosBucketName: p.CosBucketName,
      CosBucketRegion: p.CosBucketRegion,
      CosBucketPath: p.CosBucketPath,
    };
  }
  body.HlsSpecialParam = { FlowContinueDuration: numberOrText(d.FlowContinueDuration) };
  body.RemoveWatermark = d.RemoveWatermark;
  body.FlvSpecialParam = { UploadInRecording: d.UploadInRecording };
  if (d.TemplateId === undefined) {
    body.IsDelayLive = d.IsDelayLive ? 1 : 0;
    body.CosStore = d.CosStore ? 1 : 0;
  } else {
    body.TemplateId = d.TemplateId;
  }
  return body;
}

export function TemplatesPage() {
  const api = useApi();
  const list = useRecordTemplates();
  const rules = useLoad(() => api.call<{ Rules: RecordRule[] }>("DescribeLiveRecordRules"), []);
  const [draft, setDraft] = useState<Draft | undefined>(undefined);
  const action = useAction(list.reload);
  const open = (d: Draft) => {
    action.setNotice("");
    setDraft(d);
  };

  return (
    <section>
      <PageHeader title="Recording templates">
        <button type="button" class="btn primary" onClick={() => open(draftOf())}>
          New template
        </button>
      </PageHeader>
      <ResourceTable
        rows={list.data?.Templates}
        error={list.error ?? action.error}
        notice={action.notice}
        before={
          draft && (
            <TemplateForm
              key={draft.TemplateId ?? "new"}
              initial={draft}
              onCancel={() => setDraft(undefined)}
              onSaved={async (msg) => {
                setDraft(undefined);
                action.setNotice(msg);
                await list.reload();
              }}
            />
          )
        }
        empty="No template yet. Pushes no rule matches are recorded with the config's recordTemplate."
        rowKey={(t) => t.TemplateId}
        rowAttributes={(t) => ({ "data-template": t.TemplateName })}
        columns={[
          ...templateColumns<RecordTemplate>(),
          {
            header: "Formats (interval)",
            cell: (t) => {
              const enabled = FORMAT_PARAMS.filter((k) => t[k].Enable === 1);
              return (
                <>
                  {enabled.length === 0 && <span class="muted">records nothing</span>}
                  {enabled.map((k) => (
                    <Badge key={k} kind="format">
                      {FORMAT_NAMES[k]}
                      {k !== "HlsParam" && ` ${interval(t[k].RecordInterval)}`}
                    </Badge>
                  ))}
                </>
              );
            },
          },
          { header: "HLS splice", cell: (t) => (t.HlsSpecialParam.FlowContinueDuration > 0 ? `${t.HlsSpecialParam.FlowContinueDuration} s` : <span class="muted">off</span>) },
          { header: "Rules", class: "num", cell: (t) => (rules.data?.Rules ?? []).filter((r) => r.TemplateId === t.TemplateId).length },
          {
            class: "actions",
            cell: (t) => (
              <>
                <button type="button" class="btn" onClick={() => open(draftOf(t))}>
                  Edit
                </button>
                <ConfirmButton label="Delete" danger onConfirm={() => action.run(() => api.call("DeleteLiveRecordTemplate", { TemplateId: t.TemplateId }), `Template ${t.TemplateName} deleted.`)} />
              </>
            ),
          },
        ]}
      />
    </section>
  );
}

function TemplateForm({ initial, onCancel, onSaved }: { initial: Draft; onCancel: () => void; onSaved: (message: string) => Promise<void> }) {
  const api = useApi();
  const [d, setD] = useState<Draft>(initial);
  const form = useFormError();
  const editing = d.TemplateId !== undefined;
  const setParam = (k: FormatParamKey, patch: Partial<ParamDraft>) => setD({ ...d, params: { ...d.params, [k]: { ...d.params[k], ...patch } } });

  return (
    <form
      class="panel form"
      aria-label={editing ? "Edit template" : "New template"}
      onSubmit={form.submit(async () => {
        if (editing) {
          await api.call("ModifyLiveRecordTemplate", requestOf(d));
          await onSaved(`Template ${d.TemplateName} saved.`);
        } else {
          const r = await api.call<{ TemplateId: number }>("CreateLiveRecordTemplate", requestOf(d));
          await onSaved(`Template ${d.TemplateName} created (ID ${r.TemplateId}).`);
        }
      })}
    >
      <h2>{editing ? `Edit template #${d.TemplateId}` : "New template"}</h2>
      <ErrorBanner error={form.error} />
      <div class="grid two">
        <Field label="Name" name="TemplateName" value={d.TemplateName} onValue={(v) => setD({ ...d, TemplateName: v })} error={form.about("TemplateName")} hint="1–30 of Chinese characters, A-Z a-z 0-9 _ -" />
        <Field label="Description" name="Description" value={d.Description} onValue={(v) => setD({ ...d, Description: v })} error={form.about("Description")} />
      </div>
      <table class="table params">
        <thead>
          <tr>
            <th>Format</th>
            <th>Record</th>
            <th>Interval (s)</th>
            <th>Keep for (s, 0 = forever)</th>
            <th>File name pattern</th>
          </tr>
        </thead>
        <tbody>
          {FORMAT_PARAMS.map((k) => {
            const p = d.params[k];
            const about = (f: string) => form.about(`${k}.${f}`);
            return (
              <Fragment key={k}>
                <tr class={p.Enable ? "on" : undefined}>
                  <td>
                    <div class="strong">{FORMAT_NAMES[k]}</div>
                    {FORMAT_NOTES[k] && <div class="muted small">{FORMAT_NOTES[k]}</div>}
                  </td>
                  <td>
                    <Check label="on" name={`${k}.Enable`} checked={p.Enable} onChange={(v) => setParam(k, { Enable: v })} />
                  </td>
                  <td>
                    <Field label="" aria-label={`${FORMAT_NAMES[k]} interval`} name={`${k}.RecordInterval`} inputMode="numeric" value={p.RecordInterval} onValue={(v) => setParam(k, { RecordInterval: v })} error={about("RecordInterval")} />
                  </td>
                  <td>
                    <Field label="" aria-label={`${FORMAT_NAMES[k]} storage time`} name={`${k}.StorageTime`} inputMode="numeric" value={p.StorageTime} onValue={(v) => setParam(k, { StorageTime: v })} error={about("StorageTime")} />
                  </td>
                  <td>
                    <Field label="" aria-label={`${FORMAT_NAMES[k]} file name`} name={`${k}.VodFileName`} placeholder="{StreamID}_{StartYear}-…" value={p.VodFileName} onValue={(v) => setParam(k, { VodFileName: v })} error={about("VodFileName")} />
                  </td>
                </tr>
                <tr class="param-more">
                  <td />
                  <td colSpan={4}>
                    <details open={["VodSubAppId", "Procedure", "StorageMode", "ClassId", "CosBucketName", "CosBucketRegion", "CosBucketPath"].some((f) => about(f) !== undefined)}>
                      <summary class="small">VOD and COS fields ({FORMAT_NAMES[k]})</summary>
                      <div class="grid four">
                        <Field label="VodSubAppId" name={`${k}.VodSubAppId`} inputMode="numeric" value={p.VodSubAppId} onValue={(v) => setParam(k, { VodSubAppId: v })} error={about("VodSubAppId")} />
                        <Field label="ClassId" name={`${k}.ClassId`} inputMode="numeric" value={p.ClassId} onValue={(v) => setParam(k, { ClassId: v })} error={about("ClassId")} />
                        <Field label="Procedure" name={`${k}.Procedure`} value={p.Procedure} onValue={(v) => setParam(k, { Procedure: v })} error={about("Procedure")} />
                        <Select
                          label="StorageMode"
                          name={`${k}.StorageMode`}
                          value={p.StorageMode}
                          onValue={(v) => setParam(k, { StorageMode: v })}
                          options={[
                            { value: "", label: "(default)" },
                            { value: "normal", label: "normal" },
                            { value: "cold", label: "cold" },
                          ]}
                          error={about("StorageMode")}
                        />
                        <Field label="CosBucketName" name={`${k}.CosBucketName`} value={p.CosBucketName} onValue={(v) => setParam(k, { CosBucketName: v })} error={about("CosBucketName")} />
                        <Field label="CosBucketRegion" name={`${k}.CosBucketRegion`} value={p.CosBucketRegion} onValue={(v) => setParam(k, { CosBucketRegion: v })} error={about("CosBucketRegion")} />
                        <Field label="CosBucketPath" name={`${k}.CosBucketPath`} value={p.CosBucketPath} onValue={(v) => setParam(k, { CosBucketPath: v })} error={about("CosBucketPath")} />
                      </div>
                    </details>
                  </td>
                </tr>
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <div class="grid four">
        <Field
          label="HLS splice window (FlowContinueDuration, s)"
          name="HlsSpecialParam.FlowContinueDuration"
          inputMode="numeric"
          value={d.FlowContinueDuration}
          onValue={(v) => setD({ ...d, FlowContinueDuration: v })}
          error={form.about("HlsSpecialParam")}
          hint="0 = off, up to 1800"
        />
        <div class="checks">
          <Check label="RemoveWatermark" name="RemoveWatermark" checked={d.RemoveWatermark} onChange={(v) => setD({ ...d, RemoveWatermark: v })} />
          <Check label="FLV: UploadInRecording" name="FlvSpecialParam.UploadInRecording" checked={d.UploadInRecording} onChange={(v) => setD({ ...d, UploadInRecording: v })} />
        </div>
        <div class="checks">
          {editing ? (
            <span class="muted small">
              IsDelayLive {d.IsDelayLive ? 1 : 0} · CosStore {d.CosStore ? 1 : 0} (set at creation only)
            </span>
          ) : (
            <>
              <Check label="IsDelayLive (slow live)" name="IsDelayLive" checked={d.IsDelayLive} onChange={(v) => setD({ ...d, IsDelayLive: v })} />
              <Check label="CosStore" name="CosStore" checked={d.CosStore} onChange={(v) => setD({ ...d, CosStore: v })} />
            </>
          )}
        </div>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={form.busy}>
          {editing ? "Save" : "Create template"}
        </button>
        <button type="button" class="btn link" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
