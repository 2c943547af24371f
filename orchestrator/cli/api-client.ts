/**
 * A small client for the control API, used by the CLI: POST JSON with
 * X-TC-Action, signed with TC3-HMAC-SHA256 when credentials are given.
 */
import { RecorderError } from "../../engine/errors.js";
import { signTc3 } from "../api/tc3-auth.js";

export interface ApiClientOptions {
  /** http://host:port of a running recorder. */
  endpoint: string;
  secretId?: string;
  secretKey?: string;
  timeoutMs?: number;
}

export class ApiCallError extends RecorderError {}

const API_VERSION = "2018-08-01";
const SERVICE = "live";

export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  async call(action: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const url = new URL(this.opts.endpoint);
    const body = JSON.stringify(params);
    const contentType = "application/json";
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      "content-type": contentType,
      "x-tc-action": action,
      "x-tc-version": API_VERSION,
      "x-tc-timestamp": String(timestamp),
    };
    if (this.opts.secretId && this.opts.secretKey) {
      headers.authorization = signTc3({
        secretId: this.opts.secretId,
        secretKey: this.opts.secretKey,
        service: SERVICE,
        host: url.host,
        method: "POST",
        contentType,
        payload: body,
        timestamp,
      });
    }
    let res: Response;
    try {
      res = await fetch(new URL("/", url), { method: "POST", headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
    } catch (err) {
      throw new ApiCallError("API_UNREACHABLE", `cannot reach the recorder at ${this.opts.endpoint}: ${(err as Error).message}`, { cause: err });
    }
    const json = (await res.json().catch(() => undefined)) as { Response?: Record<string, unknown> } | undefined;
    const response = json?.Response;
    if (!response) throw new ApiCallError("API_BAD_RESPONSE", `unexpected answer from ${this.opts.endpoint} (HTTP ${res.status})`);
    const error = response.Error as { Code?: string; Message?: string } | undefined;
    if (error) throw new ApiCallError(error.Code ?? "InternalError", error.Message ?? "request failed");
    const { RequestId: _, ...result } = response;
    return result;
  }
}
