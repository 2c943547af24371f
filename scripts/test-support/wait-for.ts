/**
 * Condition waits for tests. A test that sleeps a fixed time and then asserts
 * fails on a busy machine (the event it waits for comes later than usual);
 * polling the condition up to a generous deadline is as fast when the machine
 * is idle and only fails when the event really does not happen.
 */

export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Poll this often. Default 20 ms. */
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  what?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 20;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with the first truthy value `condition` returns (it may be async);
 * rejects when none came within `timeoutMs`. A throwing condition counts as
 * "not yet" until the deadline, then its last error is the cause.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = options.what ?? condition.toString().slice(0, 200);
      throw new Error(`waitFor: not within ${timeoutMs} ms: ${what}`, lastError === undefined ? {} : { cause: lastError });
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
