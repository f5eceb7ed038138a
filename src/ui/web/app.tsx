// The app shell: who is signed in, the hash route, the navigation, and the one live store (one
// EventSource) shared by every view while a user is signed in. Any 401 sends the user to sign in
// and brings them back to where they were.

import { useEffect, useMemo, useState } from "preact/hooks";
import { api, setUnauthorizedHandler } from "./api.js";
import type { SessionResponse, User } from "../contract.js";
import { LiveStore } from "./live.js";
import { href, parseRoute, type Route } from "./routes.js";
import { ClustersView } from "./views/clusters.js";
import { DefinitionsView } from "./views/definitions.js";
import { DeploymentView } from "./views/deployment.js";
import { DeploymentsView } from "./views/deployments.js";
import { SignIn } from "./views/signin.js";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function ConnectionState({ live }: { live: LiveStore }) {
  const [state, setState] = useState(live.connection);
  useEffect(() => live.subscribe(() => setState(live.connection)), [live]);
  const text = state === "live" ? "live" : state === "connecting" ? "connecting…" : "reconnecting…";
  return (
    <span class={`connection conn-${state}`} title="Updates pushed by the controller" data-testid="connection">
      {text}
    </span>
  );
}

/** Signed in: the navigation and the views, all reading one live store. */
function Shell({ user, route, onSignOut, early }: { user: User; route: Route; onSignOut: () => void; early: LiveStore | undefined }) {
  const live = useMemo(() => early ?? new LiveStore(), [early]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  const section = route.view === "deployment" ? "deployments" : route.view;
  const nav = (view: "deployments" | "clusters" | "definitions", label: string) => (
    <a
      href={view === "deployments" ? href({ view, namespace: "", phase: "", selector: "" }) : href({ view })}
      aria-current={section === view ? "page" : undefined}
    >
      {label}
    </a>
  );
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/deployments">
          Flotilla
        </a>
        <nav>
          {nav("deployments", "Deployments")}
          {nav("clusters", "Clusters")}
          {nav("definitions", "Definitions")}
        </nav>
        <span class="spacer" />
        <ConnectionState live={live} />
        <span class="user" title={user.groups.join(", ")} data-testid="user">
          {user.username}
        </span>
        <button type="button" class="link" onClick={onSignOut} data-testid="signout-button">
          Sign out
        </button>
      </header>
      {route.view === "deployments" ? <DeploymentsView live={live} filters={route} /> : null}
      {route.view === "deployment" ? (
        <DeploymentView key={`${route.namespace}/${route.name}`} live={live} namespace={route.namespace} name={route.name} username={user.username} />
      ) : null}
      {route.view === "clusters" ? <ClustersView live={live} /> : null}
      {route.view === "definitions" ? <DefinitionsView /> : null}
    </>
  );
}

/** A page opened with a session, as main.tsx starts it before the first render. */
export interface EarlyStart {
  store: LiveStore;
  whoami: Promise<SessionResponse>;
}

/**
 * Starts reading the lists, the stream and who the cookie belongs to at once, before the app's
 * first render, instead of after it and after each other (the list shows one round trip and one
 * frame sooner). Not on the sign-in page: a link's token signs in whoever holds it, even over an
 * existing session.
 */
export function startEarly(): EarlyStart | undefined {
  if (parseRoute(location.hash).view === "signin") return undefined;
  const store = new LiveStore();
  store.start();
  return { store, whoami: api.whoami() };
}

export function App({ start }: { start?: EarlyStart | undefined }) {
  const route = useRoute();
  /** undefined while the first whoami is in flight, null when signed out. */
  const [user, setUser] = useState<User | null | undefined>(start ? undefined : null);
  /** The early store, dropped if there is no session. */
  const [early, setEarly] = useState<LiveStore | undefined>(start?.store);

  useEffect(() => {
    setUnauthorizedHandler(() => setUser(null));
    start?.whoami.then(
      (r) => setUser(r.user),
      () => {
        start.store.stop();
        setEarly(undefined);
        setUser(null);
      },
    );
  }, [start]);

  if (user === undefined) return <p class="muted center">Loading…</p>;
  if (user === null || route.view === "signin") {
    const next = route.view === "signin" ? route.next : location.hash.replace(/^#/, "") || undefined;
    return (
      <SignIn
        token={route.view === "signin" ? route.token : undefined}
        onSignedIn={(u) => {
          early?.stop();
          setEarly(undefined);
          setUser(u);
          const target = next && !next.startsWith("/signin") ? `#${next}` : "#/deployments";
          if (location.hash !== target) location.hash = target;
        }}
      />
    );
  }
  const signOut = () => {
    api.signOut().finally(() => {
      setEarly(undefined);
      setUser(null);
      location.hash = "#/signin";
    });
  };
  return <Shell user={user} route={route} onSignOut={signOut} early={early} />;
}
