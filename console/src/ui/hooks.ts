/** Small hooks: the API of the session, loading with polling, page actions, the route, form errors. */
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import { type Api, ApiError } from "../api/client";
import { errorField } from "./field-error";

export const ApiContext = createContext<Api | undefined>(undefined);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside a session");
  return api;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Runs `load` on mount, whenever `deps` change, on reload(), and every
 * `pollMs` while the page is visible. The latest answer wins.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs = 0): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (mine !== seq.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (mine !== seq.current) return;
      setError(asApiError(err));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
    if (pollMs <= 0) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void reload();
    }, pollMs);
    return () => clearInterval(timer);
  }, [...deps, pollMs]);

  return { data, error, loading, reload };
}

export interface Action {
  /** The message of the last action that succeeded ("" for none, or after the next one starts). */
  notice: string;
  /** The error of the last action that failed. */
  error: ApiError | undefined;
  /**
   * Runs one user action (delete, stop, retry...): clears the notice and the
   * error, runs `what`, shows `done` on success or the error on failure, then
   * runs the hook's `after` (reloading the lists it changed) either way.
   */
  run(what: () => Promise<unknown>, done?: string): Promise<void>;
  /** Shows a message without running anything (a form saved; "" hides it). */
  setNotice(message: string): void;
}

/** The notice, the error and the reload of a page's actions, in one place. */
export function useAction(after?: () => Promise<unknown>): Action {
  const [notice, setNotice] = useState("");
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const afterRef = useRef(after);
  afterRef.current = after;
  const run = useCallback(async (what: () => Promise<unknown>, done?: string) => {
    setError(undefined);
    setNotice("");
    try {
      await what();
      if (done !== undefined) setNotice(done);
    } catch (err) {
      setError(asApiError(err));
    }
    await afterRef.current?.();
  }, []);
  return { notice, error, run, setNotice };
}

export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError("ClientError", err instanceof Error ? err.message : String(err));
}

/** The path under /console/ (without it), following history navigation. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener("popstate", onChange);
    window.addEventListener("console:navigate", onChange);
    return () => {
      window.removeEventListener("popstate", onChange);
      window.removeEventListener("console:navigate", onChange);
    };
  }, []);
  return path;
}

const BASE = import.meta.env.BASE_URL.replace(/\/$/, "");

function currentPath(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return p.replace(/^\/+|\/+$/g, "");
}

export function href(page: string): string {
  return `${BASE}/${page}`;
}

export function navigate(page: string): void {
  history.pushState(null, "", href(page));
  window.dispatchEvent(new Event("console:navigate"));
}

/**
 * The API error of a form, and which field it is about: the API's messages
 * start with the field path ("FlvParam.RecordInterval must be ...") or say
 * "missing required parameter <path>".
 */
export function useFormError() {
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const field = error ? errorField(error.message) : undefined;
  return {
    error,
    setError: (e: unknown) => setError(e === undefined ? undefined : asApiError(e)),
    /** True while `submit`'s request runs (the submit button is disabled). */
    busy,
    /** The form's onSubmit: runs `send`, keeping the API's error for the fields. */
    submit: (send: () => Promise<void>) => async (e: Event) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        await send();
      } catch (err) {
        setError(asApiError(err));
      } finally {
        setBusy(false);
      }
    },
    /** The message when the error is about `name` (or a field inside it). */
    about: (name: string): string | undefined => (field !== undefined && (field === name || field.startsWith(`${name}.`)) ? error?.message : undefined),
  };
}
