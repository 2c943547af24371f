/** The console shell: login, then a navigation bar and one page per area. */
import type { ComponentType } from "preact";
import { useMemo, useState } from "preact/hooks";
import { Api, type Session, logout, storeSession, storedSession } from "./api/client";
import { CallbacksPage } from "./pages/callbacks";
import { LivePage } from "./pages/live";
import { LoginPage } from "./pages/login";
import { RecordingsPage } from "./pages/recordings";
import { RulesPage } from "./pages/rules";
import { TasksPage } from "./pages/tasks";
import { TemplatesPage } from "./pages/templates";
import { ApiContext, href, navigate, usePath } from "./ui/hooks";

const PAGES: { path: string; title: string; component: ComponentType }[] = [
  { path: "live", title: "Live", component: LivePage },
  { path: "templates", title: "Templates", component: TemplatesPage },
  { path: "rules", title: "Rules", component: RulesPage },
  { path: "tasks", title: "Tasks", component: TasksPage },
  { path: "recordings", title: "Recordings", component: RecordingsPage },
  { path: "callbacks", title: "Callbacks", component: CallbacksPage },
];

export function App() {
  const [session, setSession] = useState<Session | undefined>(storedSession);
  const [expired, setExpired] = useState(false);
  const path = usePath();
  const api = useMemo(
    () =>
      session
        ? new Api(session, () => {
            storeSession(undefined);
            setExpired(true);
            setSession(undefined);
          })
        : undefined,
    [session],
  );

  if (!session || !api) {
    return (
      <LoginPage
        expired={expired}
        onLogin={(s) => {
          storeSession(s);
          setExpired(false);
          setSession(s);
        }}
      />
    );
  }

  const page = PAGES.find((p) => p.path === path.split("/")[0]) ?? PAGES[0]!;
  const Page = page.component;
  document.title = `${page.title} · live-recorder console`;
  return (
    <ApiContext.Provider value={api}>
      <header class="topbar">
        <span class="brand">
          <span class="brand-dot" aria-hidden="true" />
          live-recorder
        </span>
        <nav>
          {PAGES.map((p) => (
            <a
              key={p.path}
              href={href(p.path)}
              class={p === page ? "active" : undefined}
              aria-current={p === page ? "page" : undefined}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                navigate(p.path);
              }}
            >
              {p.title}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="btn link logout"
          onClick={async () => {
            await logout(session);
            storeSession(undefined);
            setSession(undefined);
          }}
        >
          Log out
        </button>
      </header>
      <main class="content">
        <Page key={page.path} />
      </main>
    </ApiContext.Provider>
  );
}
