/** Shared pieces: error banners, confirm buttons, badges, form fields. */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useState } from "preact/hooks";
import type { ApiError } from "../api/client";

export function ErrorBanner({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div class="error-banner" role="alert" data-error-code={error.code}>
      <strong>{error.code}</strong> {error.message}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {children}
    </div>
  );
}

/** A button that asks "Sure?" inline (no native dialog) before running `onConfirm`. */
export function ConfirmButton(props: { label: string; confirmLabel?: string; onConfirm: () => Promise<void> | void; danger?: boolean; disabled?: boolean; title?: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!asking) return;
    const t = setTimeout(() => setAsking(false), 6000);
    return () => clearTimeout(t);
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class={props.danger ? "btn danger-outline" : "btn"} disabled={props.disabled || busy} title={props.title} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <button
        type="button"
        class="btn danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {props.confirmLabel ?? `${props.label}: confirm`}
      </button>
      <button type="button" class="btn link" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1>{title}</h1>
      <div class="page-actions">{children}</div>
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

interface InputProps {
  label: string;
  value: string;
  onValue: (v: string) => void;
  error?: string | undefined;
  hint?: string;
  name?: string;
  type?: "text" | "datetime-local";
  inputMode?: "numeric" | "text";
  placeholder?: string;
  "aria-label"?: string;
}

/** A labelled text input with the API's message under it when the error is about this field. */
export function Field({ label, value, onValue, error, hint, type, ...attrs }: InputProps) {
  const id = useId();
  const common = {
    ...attrs,
    id,
    value,
    onInput: (e: { currentTarget: HTMLInputElement }) => onValue(e.currentTarget.value),
    "aria-invalid": error ? ("true" as const) : undefined,
  };
  return (
    <div class={`field${type === "datetime-local" ? " field-datetime" : ""}${error ? " has-error" : ""}`}>
      <label class="field-label" for={id}>
        {label}
      </label>
      {type === "datetime-local" ? <input type="datetime-local" {...common} /> : <input type="text" {...common} />}
      {hint && !error && <span class="field-hint">{hint}</span>}
      {error && <span class="field-error">{error}</span>}
    </div>
  );
}

export function Check({ label, checked, onChange, name }: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  return (
    <label class="check">
      <input type="checkbox" name={name} checked={checked} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>{label}</span>
    </label>
  );
}

export function Select(props: { label: string; value: string; onValue: (v: string) => void; options: { value: string; label: string }[]; name?: string; error?: string | undefined }) {
  return (
    <label class={props.error ? "field has-error" : "field"}>
      <span class="field-label">{props.label}</span>
      <select name={props.name} value={props.value} onChange={(e) => props.onValue(e.currentTarget.value)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.error && <span class="field-error">{props.error}</span>}
    </label>
  );
}

/**
 * A number field's text as the API should get it: digits become a number,
 * anything else is sent as typed so that the API's message names the problem.
 */
export function numberOrText(v: string): number | string {
  const t = v.trim();
  return /^-?\d+$/.test(t) ? Number(t) : t;
}
