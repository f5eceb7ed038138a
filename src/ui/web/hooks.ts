// Hooks shared by the views: re-render on store changes, and load data with a visible error.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiRequestError } from "./api.js";
import type { LiveStore } from "./live.js";

/** Re-renders the caller on every store flush; returns the store's version to memoise on. */
export function useLive(live: LiveStore): number {
  const [version, setVersion] = useState(live.version);
  useEffect(() => {
    setVersion(live.version);
    return live.subscribe(() => setVersion(live.version));
  }, [live]);
  return version;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiRequestError | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change and on `reload()`; keeps the last data while a reload is in
 * flight (no flicker on live refetches) and drops answers of superseded calls.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiRequestError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const call = useRef(0);
  const run = useCallback(() => {
    const id = ++call.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (id === call.current) setState({ data, error: undefined, loading: false });
      },
      (err: unknown) => {
        if (id !== call.current) return;
        const error = err instanceof ApiRequestError ? err : new ApiRequestError(0, String(err));
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    run();
  }, [run]);
  return { ...state, reload: run };
}
