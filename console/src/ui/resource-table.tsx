/**
 * The list of a page: its error banner and notice, an "empty" line once
 * loaded with nothing in it, else one table row per resource. Every page
 * lists through this, so lists look and behave alike.
 */
import type { ComponentChildren } from "preact";
import type { ApiError } from "../api/client";
import { Empty, ErrorBanner, Notice } from "./components";

export interface Column<T> {
  /** Header text; none for the actions column. */
  header?: string;
  /** Class of the cells ("num", "mono", "actions"...). */
  class?: string;
  /** Tooltip of a cell. */
  title?: (row: T) => string;
  cell: (row: T) => ComponentChildren;
}

/** Attributes of a row: data-* hooks for tests and scripts, a class. */
export type RowAttributes = Record<`data-${string}`, string | number> & { class?: string | undefined };

export interface ResourceTableProps<T> {
  /** undefined until the first answer: then neither the table nor the empty line shows. */
  rows: T[] | undefined;
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  rowAttributes?: (row: T) => RowAttributes;
  /** Extra class of the table. */
  class?: string;
  /** Shown when loaded with no rows; nothing when omitted. */
  empty?: ComponentChildren;
  /** The load's or the last action's error. */
  error?: ApiError | undefined;
  /** The last action's message. */
  notice?: string;
  /** Between the notice and the table (a form the page opened). */
  before?: ComponentChildren;
}

export function ResourceTable<T>(p: ResourceTableProps<T>) {
  const rows = p.rows ?? [];
  return (
    <>
      <ErrorBanner error={p.error} />
      {p.notice && <Notice>{p.notice}</Notice>}
      {p.before}
      {p.rows && rows.length === 0 && p.empty !== undefined && <Empty>{p.empty}</Empty>}
      {rows.length > 0 && (
        <table class={p.class ? `table ${p.class}` : "table"}>
          <thead>
            <tr>
              {p.columns.map((c, i) => (
                <th key={i}>{c.header}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={p.rowKey(row)} {...p.rowAttributes?.(row)}>
                {p.columns.map((c, i) => (
                  <td key={i} class={c.class} title={c.title?.(row)}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** "1–20 of 57" with Previous and Next, for lists the server pages. */
export function Pager(p: { offset: number; count: number; total: number; pageSize: number; onOffset: (offset: number) => void }) {
  return (
    <div class="pager">
      <span class="muted small">
        {p.offset + 1}–{p.offset + p.count} of {p.total}
      </span>
      <button type="button" class="btn" disabled={p.offset === 0} onClick={() => p.onOffset(Math.max(0, p.offset - p.pageSize))}>
        Previous
      </button>
      <button type="button" class="btn" disabled={p.offset + p.count >= p.total} onClick={() => p.onOffset(p.offset + p.pageSize)}>
        Next
      </button>
    </div>
  );
}
