// Sign-in: a Kubernetes bearer token pasted here (or carried by a `#/signin?token=` link that
// `flotilla up` prints) is exchanged for the HttpOnly session cookie by POST /api/session. The
// token is removed from the address bar at once, so it stays out of the history and bookmarks.

import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import type { User } from "../../contract.js";

export function SignIn({ token, onSignedIn }: { token?: string | undefined; onSignedIn: (user: User) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const fromLink = useRef(false);

  const submit = async (t: string) => {
    const trimmed = t.trim();
    if (trimmed === "") {
      setError("Paste a Kubernetes bearer token (for example from `kubectl create token <serviceaccount>`).");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const { user } = await api.signIn(trimmed);
      onSignedIn(user);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!token || fromLink.current) return;
    fromLink.current = true;
    // Out of the address bar before anything else happens.
    history.replaceState(null, "", `${location.pathname}${location.search}#/signin`);
    void submit(token);
  }, [token]);

  return (
    <main class="signin">
      <h1>Sign in to Flotilla</h1>
      <p>
        Flotilla uses your Kubernetes identity: paste a bearer token of the hub cluster. What you may see and do is what RBAC lets that identity{" "}
        <code>get</code>, <code>list</code> and <code>patch</code> on ApplicationDeployments.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit(value);
        }}
      >
        <label for="token">Bearer token</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          autocomplete="off"
          spellcheck={false}
          value={value}
          onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
          data-testid="token-input"
        />
        <button type="submit" class="primary" disabled={busy} data-testid="signin-button">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {error ? (
        <div class="alert error" role="alert" data-testid="signin-error">
          {error}
        </div>
      ) : null}
      <p class="muted small">
        The token is sent once and kept by the browser in an HttpOnly cookie for this site only; signing out deletes it. <code>flotilla up</code> prints sign-in
        links for a viewer and an operator of the local fleet.
      </p>
    </main>
  );
}
