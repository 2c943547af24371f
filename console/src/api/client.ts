/**
 * The console's only way to read or change state: the same signed control API
 * every other client uses (POST / with X-TC-Action, TC3-HMAC-SHA256), with the
 * session credential the operator login returned.
 */
import { signTc3 } from "./tc3";

export const API_VERSION = "2018-08-01";
const CONTENT_TYPE = "application/json";
const SESSION_KEY = "recorder.console.session";

/** An error answer of the API (Response.Error), or of the network. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId = "",
  ) {
    super(message);
  }
}

export interface Session {
  SecretId: string;
  SecretKey: string;
  /** ms since the epoch (server clock). */
  ExpiresAt: number;
  /** Whether the server checks signatures (it always gets them). */
  AuthRequired: boolean;
  /** Server clock minus browser clock, ms (signatures carry the server's time). */
  clockOffsetMs: number;
}

type Envelope = { Response?: Record<string, unknown> & { Error?: { Code?: string; Message?: string }; RequestId?: string } };

async function readEnvelope(res: Response): Promise<Record<string, unknown>> {
  let json: Envelope;
  try {
    json = (await res.json()) as Envelope;
  } catch {
    throw new ApiError("InternalError", `the server answered HTTP ${res.status} without a JSON body`);
  }
  const r = json.Response;
  if (!r) throw new ApiError("InternalError", `the server answered HTTP ${res.status} without a Response`);
  if (r.Error) throw new ApiError(r.Error.Code ?? "InternalError", r.Error.Message ?? "unknown error", r.RequestId ?? "");
  return r;
}

function networkError(err: unknown): ApiError {
  return new ApiError("NetworkError", `the service did not answer (${err instanceof Error ? err.message : String(err)})`);
}

/** POST /console/api/login: a wrong password throws the server's ApiError. */
export async function login(password: string): Promise<Session> {
  let res: Response;
  try {
    res = await fetch("/console/api/login", { method: "POST", headers: { "content-type": CONTENT_TYPE }, body: JSON.stringify({ password }) });
  } catch (err) {
    throw networkError(err);
  }
  const r = await readEnvelope(res);
  const serverDate = Date.parse(res.headers.get("date") ?? "");
  // The Date header has 1 s resolution: only correct clocks that are clearly off.
  const offset = Number.isNaN(serverDate) ? 0 : serverDate - Date.now();
  return {
    SecretId: String(r.SecretId),
    SecretKey: String(r.SecretKey),
    ExpiresAt: Number(r.ExpiresAt),
    AuthRequired: r.AuthRequired === true,
    clockOffsetMs: Math.abs(offset) > 30_000 ? offset : 0,
  };
}

/** Ends the session on the server: the call is signed with the session, which alone may end it. */
export async function logout(session: Session): Promise<void> {
  const path = "/console/api/logout";
  const payload = "{}";
  const timestamp = Math.floor((Date.now() + session.clockOffsetMs) / 1000);
  const action = "ConsoleLogout";
  const authorization = await signTc3({
    secretId: session.SecretId,
    secretKey: session.SecretKey,
    service: "live",
    host: location.host,
    method: "POST",
    path,
    contentType: CONTENT_TYPE,
    payload,
    timestamp,
    action,
  });
  const headers = { authorization, "content-type": CONTENT_TYPE, "x-tc-action": action, "x-tc-timestamp": String(timestamp) };
  await fetch(path, { method: "POST", headers, body: payload }).catch(() => undefined);
}

/** The session of this tab, kept across reloads (sessionStorage) until it expires. */
export function storedSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    if (typeof s.SecretId !== "string" || typeof s.SecretKey !== "string" || !(s.ExpiresAt > Date.now() + (s.clockOffsetMs ?? 0))) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function storeSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** Codes that mean the credential is gone (expired session, server restarted): log in again. */
const SESSION_LOST = new Set(["AuthFailure.SecretIdNotFound"]);

export class Api {
  constructor(
    private readonly session: Session,
    private readonly onSessionLost: () => void,
  ) {}

  /** Calls one action; resolves with Response (without RequestId) or throws ApiError. */
  async call<T = Record<string, unknown>>(action: string, body: object = {}): Promise<T> {
    const payload = JSON.stringify(body);
    const timestamp = Math.floor((Date.now() + this.session.clockOffsetMs) / 1000);
    const authorization = await signTc3({
      secretId: this.session.SecretId,
      secretKey: this.session.SecretKey,
      service: "live",
      host: location.host,
      method: "POST",
      contentType: CONTENT_TYPE,
      payload,
      timestamp,
      action,
    });
    let res: Response;
    try {
      res = await fetch("/", {
        method: "POST",
        headers: {
          authorization,
          "content-type": CONTENT_TYPE,
          "x-tc-action": action,
          "x-tc-version": API_VERSION,
          "x-tc-timestamp": String(timestamp),
        },
        body: payload,
      });
    } catch (err) {
      throw networkError(err);
    }
    try {
      return (await readEnvelope(res)) as T;
    } catch (err) {
      if (err instanceof ApiError && SESSION_LOST.has(err.code)) this.onSessionLost();
      throw err;
    }
  }
}
