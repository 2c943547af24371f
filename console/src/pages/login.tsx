/** Operator login: the configured console password buys a session credential. */
import { useState } from "preact/hooks";
import { type ApiError, type Session, login } from "../api/client";
import { ErrorBanner } from "../ui/components";
import { asApiError } from "../ui/hooks";

export function LoginPage({ onLogin, expired }: { onLogin: (s: Session) => void; expired: boolean }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <div class="login-screen">
      <form
        class="login-card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            onLogin(await login(password));
          } catch (err) {
            setError(asApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="brand big">
          <span class="brand-dot" aria-hidden="true" />
          live-recorder
        </div>
        <p class="muted">Operator console: live pushes, recording templates and rules, tasks, recordings and callbacks.</p>
        {expired && !error && <p class="notice">Your session ended. Log in again.</p>}
        <label class="field">
          <span class="field-label">Password</span>
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            autofocus
          />
        </label>
        <ErrorBanner error={error} />
        <button type="submit" class="btn primary wide" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p class="muted small">Set the password with <code>console.password</code> in the config or <code>RECORDER_CONSOLE_PASSWORD</code>.</p>
      </form>
    </div>
  );
}
