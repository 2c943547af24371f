/**
 * Callback templates, callback rules and the durable delivery outbox, in the
 * catalog's SQLite database (tables of catalog migration 3). better-sqlite3
 * is synchronous: every method runs to completion before returning, and each
 * multi-statement change runs in a transaction.
 *
 * Error codes (SDK client.go lists per action; only codes of the ApiErrorCode
 * union are used):
 * - more than MAX_CALLBACK_TEMPLATES templates       -> InternalError.ConfOutLimit
 *   (listed for CreateLiveCallbackTemplate; the recording templates use it too)
 * - template id unknown (Modify/Describe/Delete)     -> FailedOperation.NotFound
 * - deleting a template a rule still binds           -> FailedOperation.ConfInUsed
 * - CreateLiveCallbackRule with an unknown template  -> InvalidParameter.ConfNotFound
 *   (the SDK lists InternalError.ConfNotFound for this action, which the union lacks)
 * - a rule for the same (domain, app) already exists -> FailedOperation.RuleAlreadyExist
 *   (the SDK lists no duplicate code for callback rules; this is the recording-rule code)
 * - more than MAX_CALLBACK_RULES rules                -> LimitExceeded (as recording rules)
 * - DeleteLiveCallbackRule for no rule               -> FailedOperation.NotFound
 * - a Modify leaving no notify URL                   -> MissingParameter (as Create)
 *
 * Durability: `enqueue` commits before it returns. In the catalog's WAL mode
 * with synchronous=NORMAL a committed row survives a crash of the process; an
 * OS crash or power loss may lose the last commits (use synchronous=FULL on
 * the connection if that matters).
 */
import type Database from "better-sqlite3";
import { ApiError } from "../control/api-error.js";
import { hasNotifyUrl } from "./callback-schema.js";
import type {
  CallbackRule,
  CallbackRuleInput,
  CallbackTarget,
  CallbackTemplate,
  CallbackTemplateInput,
  CallbackTemplatePatch,
  DeliveryCounts,
  DeliveryStatus,
  DueDelivery,
  OutboxEntry,
  OutboxEvent,
} from "./types.js";

/** SDK: "数量上限：50" for CreateLiveCallbackTemplate. */
export const MAX_CALLBACK_TEMPLATES = 50;
/** Our choice: the same cap as recording rules (spec §6). */
export const MAX_CALLBACK_RULES = 50;

/** Spec §2.3 / CallBackRuleInfo: Beijing time (UTC+8) "YYYY-MM-DD HH:mm:ss". */
function beijingTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The host (with port) deliveries are grouped by for per-host concurrency:
 * lowercased `host` of the URL, or "" when it does not parse.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return "";
  }
}

interface OutboxRow {
  id: number;
  url: string;
  callback_key: string;
  event_type: number;
  body: string;
  file_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_ms: number;
  last_error: string;
  created_ms: number;
  delivered_ms: number;
}

function entryFromRow(r: Omit<OutboxRow, "callback_key">): OutboxEntry {
  return {
    id: r.id,
    url: r.url,
    eventType: r.event_type,
    body: JSON.parse(r.body) as Record<string, unknown>,
    fileId: r.file_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptMs: r.next_attempt_ms,
    lastError: r.last_error,
    createdMs: r.created_ms,
    deliveredMs: r.delivered_ms,
  };
}

/** Every outbox column but callback_key (what operators may see). */
const PUBLIC_COLUMNS = "id, url, event_type, body, file_id, status, attempts, next_attempt_ms, last_error, created_ms, delivered_ms";

/** Longest error text kept per attempt. */
export const LAST_ERROR_MAX_CHARS = 500;

export interface CallbackStoreOptions {
  /** Config-level target used when no callback rule matches a stream. */
  fallback?: CallbackTarget;
}

export interface DueOptions {
  /** Rows not to return (being sent right now). */
  excludeIds?: readonly number[];
  /** Hosts (as `hostOf` gives them) not to return (at their concurrency cap). */
  excludeHosts?: readonly string[];
  /** At most this many rows per host, so one backlogged host cannot fill `limit`. */
  perHost?: number;
}

export class CallbackStore {
  private readonly fallback: CallbackTarget | undefined;

  constructor(
    private readonly db: Database.Database,
    options: CallbackStoreOptions = {},
  ) {
    this.fallback = options.fallback;
    // Lets `due` group and filter by host inside SQLite (registered on this connection only).
    db.function("callback_host", { deterministic: true }, (url: unknown) => (typeof url === "string" ? hostOf(url) : ""));
  }

  // ---- templates ----

  createTemplate(t: CallbackTemplateInput, nowMs: number): CallbackTemplate {
    return this.db.transaction(() => {
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM callback_templates").get() as { n: number };
      if (n >= MAX_CALLBACK_TEMPLATES) {
        throw new ApiError("InternalError.ConfOutLimit", `at most ${MAX_CALLBACK_TEMPLATES} callback templates can exist`);
      }
      const info = this.db.prepare("INSERT INTO callback_templates (body, created_ms, updated_ms) VALUES ('{}', ?, ?)").run(nowMs, nowMs);
      const stored: CallbackTemplate = { TemplateId: Number(info.lastInsertRowid), ...t };
      this.db.prepare("UPDATE callback_templates SET body = ? WHERE id = ?").run(JSON.stringify(stored), stored.TemplateId);
      return stored;
    })();
  }

  /** Merges `patch` over the stored template; the result must keep a notify URL. */
  modifyTemplate(id: number, patch: CallbackTemplatePatch, nowMs: number): CallbackTemplate {
    return this.db.transaction(() => {
      const merged: CallbackTemplate = { ...this.template(id), ...patch, TemplateId: id };
      if (!hasNotifyUrl(merged)) {
        throw new ApiError("MissingParameter", "a callback template needs at least one notify URL; this change would clear the last one");
      }
      this.db.prepare("UPDATE callback_templates SET body = ?, updated_ms = ? WHERE id = ?").run(JSON.stringify(merged), nowMs, id);
      return merged;
    })();
  }

  deleteTemplate(id: number): void {
    this.db.transaction(() => {
      const rule = this.db.prepare("SELECT domain, app FROM callback_rules WHERE template_id = ? LIMIT 1").get(id) as
        | { domain: string; app: string }
        | undefined;
      if (rule) {
        throw new ApiError(
          "FailedOperation.ConfInUsed",
          `callback template ${id} is bound by the rule for ${rule.domain}/${rule.app || "*"}: delete the rule first`,
        );
      }
      if (this.db.prepare("DELETE FROM callback_templates WHERE id = ?").run(id).changes !== 1) throw notFound(id);
    })();
  }

  /** The template, or FailedOperation.NotFound. */
  template(id: number): CallbackTemplate {
    const t = this.findTemplate(id);
    if (!t) throw notFound(id);
    return t;
  }

  findTemplate(id: number): CallbackTemplate | undefined {
    const row = this.db.prepare("SELECT body FROM callback_templates WHERE id = ?").get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as CallbackTemplate) : undefined;
  }

  listTemplates(): CallbackTemplate[] {
    const rows = this.db.prepare("SELECT body FROM callback_templates ORDER BY id").all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as CallbackTemplate);
  }

  // ---- rules ----

  createRule(r: CallbackRuleInput, nowMs: number): CallbackRule {
    return this.db.transaction(() => {
      if (!this.findTemplate(r.TemplateId)) {
        throw new ApiError("InvalidParameter.ConfNotFound", `no callback template with TemplateId ${r.TemplateId}`);
      }
      if (this.db.prepare("SELECT 1 FROM callback_rules WHERE domain = ? AND app = ?").get(r.DomainName, r.AppName)) {
        throw new ApiError("FailedOperation.RuleAlreadyExist", `a callback rule for ${r.DomainName}/${r.AppName || "*"} already exists`);
      }
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM callback_rules").get() as { n: number };
      if (n >= MAX_CALLBACK_RULES) throw new ApiError("LimitExceeded", `at most ${MAX_CALLBACK_RULES} callback rules can exist`);
      this.db
        .prepare("INSERT INTO callback_rules (domain, app, template_id, created_ms) VALUES (?, ?, ?, ?)")
        .run(r.DomainName, r.AppName, r.TemplateId, nowMs);
      const time = beijingTime(nowMs);
      return { DomainName: r.DomainName, AppName: r.AppName, TemplateId: r.TemplateId, CreateTime: time, UpdateTime: time };
    })();
  }

  /** Exact match: AppName "" deletes only the rule stored with "". */
  deleteRule(key: { DomainName: string; AppName: string }): void {
    const changes = this.db.prepare("DELETE FROM callback_rules WHERE domain = ? AND app = ?").run(key.DomainName, key.AppName).changes;
    if (changes !== 1) throw new ApiError("FailedOperation.NotFound", `no callback rule for ${key.DomainName}/${key.AppName || '""'}`);
  }

  listRules(): CallbackRule[] {
    const rows = this.db.prepare("SELECT domain, app, template_id, created_ms FROM callback_rules ORDER BY created_ms, domain, app").all() as {
      domain: string;
      app: string;
      template_id: number;
      created_ms: number;
    }[];
    return rows.map((r) => {
      const time = beijingTime(r.created_ms);
      return { DomainName: r.domain, AppName: r.app, TemplateId: r.template_id, CreateTime: time, UpdateTime: time };
    });
  }

  /**
   * Where the recording events of a stream on (domain, app) go: the rule for
   * (domain, app) beats the rule for (domain, ""); with no rule, the fallback.
   * A matching rule wins even if its template sets no recording URL (then
   * undefined: nothing to send, no fallback). Domain compares lowercased.
   */
  resolve(domain: string, app: string): CallbackTarget | undefined {
    const row = this.db
      .prepare(
        `SELECT t.body FROM callback_rules r JOIN callback_templates t ON t.id = r.template_id
         WHERE r.domain = ? AND (r.app = ? OR r.app = '')
         ORDER BY r.app = '' LIMIT 1`,
      )
      .get(domain.toLowerCase(), app) as { body: string } | undefined;
    if (!row) return this.fallback ? { ...this.fallback } : undefined;
    const t = JSON.parse(row.body) as CallbackTemplate;
    if (t.RecordNotifyUrl === "" && t.RecordStatusNotifyUrl === "") return undefined;
    const target: CallbackTarget = { callbackKey: t.CallbackKey };
    if (t.RecordNotifyUrl !== "") target.recordNotifyUrl = t.RecordNotifyUrl;
    if (t.RecordStatusNotifyUrl !== "") target.recordStatusNotifyUrl = t.RecordStatusNotifyUrl;
    return target;
  }

  // ---- outbox ----

  /** Stores the event for delivery (due at `nowMs`); returns its id. Committed when this returns. */
  enqueue(e: OutboxEvent, nowMs: number): number {
    const { sign: _sign, t: _t, ...body } = e.body;
    return this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO callback_outbox (url, callback_key, event_type, body, file_id, status, attempts, next_attempt_ms, created_ms)
           VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
        )
        .run(e.url, e.callbackKey, e.eventType, JSON.stringify(body), e.fileId ?? "", nowMs, nowMs);
      return Number(info.lastInsertRowid);
    })();
  }

  /** Pending rows due at `nowMs`, oldest due first, with their keys (for the dispatcher). */
  due(nowMs: number, limit: number, opts: DueOptions = {}): DueDelivery[] {
    const perHost = opts.perHost ?? Number.MAX_SAFE_INTEGER;
    const rows = this.db
      .prepare(
        `SELECT * FROM (
           SELECT o.*, ROW_NUMBER() OVER (PARTITION BY callback_host(o.url) ORDER BY o.next_attempt_ms, o.id) AS host_rank
           FROM callback_outbox o
           WHERE o.status = 'pending' AND o.next_attempt_ms <= ?
             AND o.id NOT IN (SELECT value FROM json_each(?))
             AND callback_host(o.url) NOT IN (SELECT value FROM json_each(?))
         )
         WHERE host_rank <= ?
         ORDER BY next_attempt_ms, id
         LIMIT ?`,
      )
      .all(nowMs, JSON.stringify(opts.excludeIds ?? []), JSON.stringify(opts.excludeHosts ?? []), perHost, limit) as OutboxRow[];
    return rows.map((r) => ({ ...entryFromRow(r), callbackKey: r.callback_key }));
  }

  /** Counts the successful attempt; returns the attempts made, or undefined if the row is not pending. */
  markDelivered(id: number, nowMs: number): number | undefined {
    const row = this.db
      .prepare(
        `UPDATE callback_outbox SET status = 'delivered', attempts = attempts + 1, delivered_ms = ?
         WHERE id = ? AND status = 'pending' RETURNING attempts`,
      )
      .get(nowMs, id) as { attempts: number } | undefined;
    return row?.attempts;
  }

  /**
   * Counts a failed attempt. `maxAttempts` is the total number of attempts
   * (first try included): when `attempts` reaches it the row becomes
   * 'failed', otherwise it stays pending until `nextAttemptMs`. Returns the
   * new state, or undefined if the row is not pending.
   */
  markFailedAttempt(
    id: number,
    error: string,
    nextAttemptMs: number,
    maxAttempts: number,
  ): { attempts: number; status: DeliveryStatus } | undefined {
    const text = error.length > LAST_ERROR_MAX_CHARS ? `${error.slice(0, LAST_ERROR_MAX_CHARS)}...` : error;
    return this.db
      .prepare(
        `UPDATE callback_outbox
         SET attempts = attempts + 1,
             last_error = ?,
             status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END,
             next_attempt_ms = ?
         WHERE id = ? AND status = 'pending' RETURNING attempts, status`,
      )
      .get(text, maxAttempts, nextAttemptMs, id) as { attempts: number; status: DeliveryStatus } | undefined;
  }

  /** Newest first; never includes the callback key. */
  list(q: { status?: DeliveryStatus; offset: number; limit: number }): { totalCount: number; rows: OutboxEntry[] } {
    const where = q.status === undefined ? "" : "WHERE status = ?";
    const args = q.status === undefined ? [] : [q.status];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM callback_outbox ${where}`).get(...args) as { n: number };
    const rows = this.db
      .prepare(
        `SELECT ${PUBLIC_COLUMNS} FROM callback_outbox ${where} ORDER BY id DESC LIMIT ? OFFSET ?`,
      )
      .all(...args, q.limit, q.offset) as Omit<OutboxRow, "callback_key">[];
    return { totalCount: n, rows: rows.map(entryFromRow) };
  }

  /** One row without its key, or undefined. */
  get(id: number): OutboxEntry | undefined {
    const row = this.db.prepare(`SELECT ${PUBLIC_COLUMNS} FROM callback_outbox WHERE id = ?`).get(id) as
      | Omit<OutboxRow, "callback_key">
      | undefined;
    return row ? entryFromRow(row) : undefined;
  }

  /**
   * Sends a delivery again: a 'failed' one goes back to pending with
   * attempts 0 (a full new round of maxAttempts), due now; a 'pending' one is
   * made due now (skipping the wait, attempts kept). last_error is kept.
   * Unknown id -> FailedOperation.NotFound; 'delivered' -> UnsupportedOperation.
   */
  retry(id: number, nowMs: number): OutboxEntry {
    return this.db.transaction(() => {
      const row = this.get(id);
      if (!row) throw new ApiError("FailedOperation.NotFound", `no callback delivery with DeliveryId ${id}`);
      if (row.status === "delivered") throw new ApiError("UnsupportedOperation", `callback delivery ${id} was already delivered`);
      if (row.status === "failed") {
        this.db.prepare("UPDATE callback_outbox SET status = 'pending', attempts = 0, next_attempt_ms = ? WHERE id = ?").run(nowMs, id);
      } else {
        this.db.prepare("UPDATE callback_outbox SET next_attempt_ms = ? WHERE id = ?").run(nowMs, id);
      }
      return this.get(id)!;
    })();
  }

  counts(): DeliveryCounts {
    const counts: DeliveryCounts = { pending: 0, delivered: 0, failed: 0 };
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM callback_outbox GROUP BY status").all() as { status: string; n: number }[];
    for (const r of rows) {
      if (r.status === "pending" || r.status === "delivered" || r.status === "failed") counts[r.status] = r.n;
    }
    return counts;
  }
}

function notFound(id: number): ApiError {
  return new ApiError("FailedOperation.NotFound", `no callback template with TemplateId ${id}`);
}
