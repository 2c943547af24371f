/**
 * The callback tables of the SQLite catalog (migration 3): callback
 * templates, callback rules and the durable delivery outbox. Each
 * multi-statement change runs in a transaction.
 *
 * Durability: `enqueueCallback` commits before it resolves. In WAL mode with
 * synchronous=NORMAL a committed row survives a crash of the process; an OS
 * crash or power loss may lose the last commits (use synchronous=FULL on the
 * connection if that matters).
 */
import type Database from "better-sqlite3";
import type {
  CallbackRule,
  CallbackRuleInput,
  CallbackTemplate,
  CallbackTemplateInput,
  DeliveryCounts,
  DeliveryStatus,
  DueDelivery,
  OutboxEntry,
  OutboxEvent,
} from "../callbacks/types.js";
import { beijingTime } from "./sqlite-database.js";
import type { CallbackCatalog, DueOptions } from "./types.js";

/** Longest error text kept per attempt. */
export const LAST_ERROR_MAX_CHARS = 500;

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

export class SqliteCallbackTables implements CallbackCatalog {
  constructor(protected readonly db: Database.Database) {}

  async insertCallbackTemplate(t: CallbackTemplateInput, maxTemplates: number, nowMs: number): Promise<CallbackTemplate | undefined> {
    return this.db.transaction(() => {
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM callback_templates").get() as { n: number };
      if (n >= maxTemplates) return undefined;
      const info = this.db.prepare("INSERT INTO callback_templates (body, created_ms, updated_ms) VALUES ('{}', ?, ?)").run(nowMs, nowMs);
      const stored: CallbackTemplate = { TemplateId: Number(info.lastInsertRowid), ...t };
      this.db.prepare("UPDATE callback_templates SET body = ? WHERE id = ?").run(JSON.stringify(stored), stored.TemplateId);
      return stored;
    })();
  }

  async updateCallbackTemplate(t: CallbackTemplate, nowMs: number): Promise<boolean> {
    return this.db.prepare("UPDATE callback_templates SET body = ?, updated_ms = ? WHERE id = ?").run(JSON.stringify(t), nowMs, t.TemplateId).changes === 1;
  }

  async deleteCallbackTemplate(id: number): Promise<"deleted" | "not-found" | { boundBy: { domain: string; app: string } }> {
    return this.db.transaction(() => {
      const rule = this.db.prepare("SELECT domain, app FROM callback_rules WHERE template_id = ? LIMIT 1").get(id) as { domain: string; app: string } | undefined;
      if (rule) return { boundBy: rule };
      return this.db.prepare("DELETE FROM callback_templates WHERE id = ?").run(id).changes === 1 ? ("deleted" as const) : ("not-found" as const);
    })();
  }

  async getCallbackTemplate(id: number): Promise<CallbackTemplate | undefined> {
    return this.templateRow(id);
  }

  async listCallbackTemplates(): Promise<CallbackTemplate[]> {
    const rows = this.db.prepare("SELECT body FROM callback_templates ORDER BY id").all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as CallbackTemplate);
  }

  async insertCallbackRule(r: CallbackRuleInput, maxRules: number, nowMs: number): Promise<CallbackRule | "no-template" | "exists" | "limit"> {
    return this.db.transaction(() => {
      if (!this.templateRow(r.TemplateId)) return "no-template" as const;
      if (this.db.prepare("SELECT 1 FROM callback_rules WHERE domain = ? AND app = ?").get(r.DomainName, r.AppName)) return "exists" as const;
      const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM callback_rules").get() as { n: number };
      if (n >= maxRules) return "limit" as const;
      this.db.prepare("INSERT INTO callback_rules (domain, app, template_id, created_ms) VALUES (?, ?, ?, ?)").run(r.DomainName, r.AppName, r.TemplateId, nowMs);
      const time = beijingTime(nowMs);
      return { DomainName: r.DomainName, AppName: r.AppName, TemplateId: r.TemplateId, CreateTime: time, UpdateTime: time };
    })();
  }

  async deleteCallbackRule(key: { DomainName: string; AppName: string }): Promise<boolean> {
    return this.db.prepare("DELETE FROM callback_rules WHERE domain = ? AND app = ?").run(key.DomainName, key.AppName).changes === 1;
  }

  async listCallbackRules(): Promise<CallbackRule[]> {
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

  async matchCallbackTemplate(domain: string, app: string): Promise<CallbackTemplate | undefined> {
    const row = this.db
      .prepare(
        `SELECT t.body FROM callback_rules r JOIN callback_templates t ON t.id = r.template_id
         WHERE r.domain = ? AND (r.app = ? OR r.app = '')
         ORDER BY r.app = '' LIMIT 1`,
      )
      .get(domain.toLowerCase(), app) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as CallbackTemplate) : undefined;
  }

  async enqueueCallback(e: OutboxEvent, nowMs: number): Promise<number> {
    const { sign: _sign, t: _t, ...body } = e.body;
    const info = this.db
      .prepare(
        `INSERT INTO callback_outbox (url, callback_key, event_type, body, file_id, status, attempts, next_attempt_ms, created_ms)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      )
      .run(e.url, e.callbackKey, e.eventType, JSON.stringify(body), e.fileId ?? "", nowMs, nowMs);
    return Number(info.lastInsertRowid);
  }

  async dueCallbacks(nowMs: number, limit: number, opts: DueOptions = {}): Promise<DueDelivery[]> {
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

  async markCallbackDelivered(id: number, nowMs: number): Promise<number | undefined> {
    const row = this.db
      .prepare(
        `UPDATE callback_outbox SET status = 'delivered', attempts = attempts + 1, delivered_ms = ?
         WHERE id = ? AND status = 'pending' RETURNING attempts`,
      )
      .get(nowMs, id) as { attempts: number } | undefined;
    return row?.attempts;
  }

  async markCallbackFailed(id: number, error: string, nextAttemptMs: number, maxAttempts: number): Promise<{ attempts: number; status: DeliveryStatus } | undefined> {
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

  async listCallbacks(q: { status?: DeliveryStatus; offset: number; limit: number }): Promise<{ totalCount: number; rows: OutboxEntry[] }> {
    const where = q.status === undefined ? "" : "WHERE status = ?";
    const args = q.status === undefined ? [] : [q.status];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM callback_outbox ${where}`).get(...args) as { n: number };
    const rows = this.db
      .prepare(`SELECT ${PUBLIC_COLUMNS} FROM callback_outbox ${where} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, q.limit, q.offset) as Omit<OutboxRow, "callback_key">[];
    return { totalCount: n, rows: rows.map(entryFromRow) };
  }

  async getCallback(id: number): Promise<OutboxEntry | undefined> {
    return this.outboxRow(id);
  }

  async retryCallback(id: number, nowMs: number): Promise<OutboxEntry | "not-found" | "delivered"> {
    return this.db.transaction(() => {
      const row = this.outboxRow(id);
      if (!row) return "not-found" as const;
      if (row.status === "delivered") return "delivered" as const;
      if (row.status === "failed") {
        this.db.prepare("UPDATE callback_outbox SET status = 'pending', attempts = 0, next_attempt_ms = ? WHERE id = ?").run(nowMs, id);
      } else {
        this.db.prepare("UPDATE callback_outbox SET next_attempt_ms = ? WHERE id = ?").run(nowMs, id);
      }
      return this.outboxRow(id)!;
    })();
  }

  async callbackCounts(): Promise<DeliveryCounts> {
    const counts: DeliveryCounts = { pending: 0, delivered: 0, failed: 0 };
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM callback_outbox GROUP BY status").all() as { status: string; n: number }[];
    for (const r of rows) {
      if (r.status === "pending" || r.status === "delivered" || r.status === "failed") counts[r.status] = r.n;
    }
    return counts;
  }

  private templateRow(id: number): CallbackTemplate | undefined {
    const row = this.db.prepare("SELECT body FROM callback_templates WHERE id = ?").get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as CallbackTemplate) : undefined;
  }

  private outboxRow(id: number): OutboxEntry | undefined {
    const row = this.db.prepare(`SELECT ${PUBLIC_COLUMNS} FROM callback_outbox WHERE id = ?`).get(id) as Omit<OutboxRow, "callback_key"> | undefined;
    return row ? entryFromRow(row) : undefined;
  }
}
