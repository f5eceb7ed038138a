// The browser's one way to call the JSON API: same-origin fetches that carry the session cookie
// (HttpOnly, SameSite=Strict, set by POST /api/session), errors turned into `ApiRequestError` with
// the server's message and reason. The token itself is never kept in script-readable storage.

import type {
  ActionName,
  ActionResponse,
  ApiError,
  ClusterItem,
  CommitDiff,
  DefinitionsResponse,
  DeploymentDetail,
  DeploymentSummary,
  HistoryItem,
  ListResponse,
  SessionResponse,
} from "../contract.js";

/** A refused or failed request: `status` is the HTTP status (0 when the server could not be reached). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

/** Called on every 401, so the app can send the user to the sign-in page from wherever they are. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiRequestError(0, `The Flotilla UI server could not be reached (${(err as Error).message}).`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as Partial<ApiError>;
    const message = typeof e.error === "string" ? e.error : `${method} ${path} failed: HTTP ${res.status}`;
    if (res.status === 401 && !path.startsWith("/api/session")) onUnauthorized();
    throw new ApiRequestError(res.status, message, typeof e.reason === "string" && e.reason !== "" ? e.reason : undefined);
  }
  return parsed as T;
}

const seg = encodeURIComponent;
const deploymentPath = (namespace: string, name: string) => `/api/deployments/${seg(namespace)}/${seg(name)}`;

export const api = {
  signIn: (token: string) => request<SessionResponse>("POST", "/api/session", { token }),
  signOut: () => request<unknown>("DELETE", "/api/session"),
  whoami: () => request<SessionResponse>("GET", "/api/whoami"),
  deployments: () => request<ListResponse<DeploymentSummary>>("GET", "/api/deployments"),
  deployment: (namespace: string, name: string) => request<DeploymentDetail>("GET", deploymentPath(namespace, name)),
  history: (namespace: string, name: string) => request<ListResponse<HistoryItem>>("GET", `${deploymentPath(namespace, name)}/history`),
  diff: (namespace: string, name: string, commit: string) => request<CommitDiff>("GET", `${deploymentPath(namespace, name)}/history/${seg(commit)}/diff`),
  action: (namespace: string, name: string, action: ActionName) => request<ActionResponse>("POST", `${deploymentPath(namespace, name)}/actions/${action}`),
  clusters: () => request<ListResponse<ClusterItem>>("GET", "/api/clusters"),
  definitions: () => request<DefinitionsResponse>("GET", "/api/definitions"),
};
