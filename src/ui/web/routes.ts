// Hash routes of the app (`#/deployments`, `#/deployments/<ns>/<name>`, `#/clusters`,
// `#/definitions`, `#/signin?token=…`): parsed into a value and built back, so no view assembles
// a URL by hand. The server only ever serves index.html; everything after `#` stays in the browser.

export type Route =
  | { view: "signin"; token?: string; next?: string }
  | { view: "deployments"; namespace: string; phase: string; selector: string; page?: number }
  | { view: "deployment"; namespace: string; name: string }
  | { view: "clusters" }
  | { view: "definitions" };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  switch (parts[0]) {
    case "signin": {
      const token = query.get("token");
      const next = query.get("next");
      return { view: "signin", ...(token ? { token } : {}), ...(next ? { next } : {}) };
    }
    case "deployments":
      if (parts.length === 3) return { view: "deployment", namespace: parts[1] ?? "", name: parts[2] ?? "" };
      return {
        view: "deployments",
        namespace: query.get("namespace") ?? "",
        phase: query.get("phase") ?? "",
        selector: query.get("selector") ?? "",
        ...pageOf(query.get("page")),
      };
    case "clusters":
      return { view: "clusters" };
    case "definitions":
      return { view: "definitions" };
    default:
      return { view: "deployments", namespace: "", phase: "", selector: "" };
  }
}

/** `page=N` for N > 1; anything else is the first page, which the route leaves out. */
function pageOf(raw: string | null): { page?: number } {
  const n = Number(raw);
  return Number.isInteger(n) && n > 1 ? { page: n } : {};
}

export function href(route: Route): string {
  switch (route.view) {
    case "signin": {
      const q = new URLSearchParams();
      if (route.next) q.set("next", route.next);
      const s = q.toString();
      return `#/signin${s ? `?${s}` : ""}`;
    }
    case "deployments": {
      const q = new URLSearchParams();
      if (route.namespace) q.set("namespace", route.namespace);
      if (route.phase) q.set("phase", route.phase);
      if (route.selector) q.set("selector", route.selector);
      if (route.page && route.page > 1) q.set("page", String(route.page));
      const s = q.toString();
      return `#/deployments${s ? `?${s}` : ""}`;
    }
    case "deployment":
      return `#/deployments/${encodeURIComponent(route.namespace)}/${encodeURIComponent(route.name)}`;
    case "clusters":
      return "#/clusters";
    case "definitions":
      return "#/definitions";
  }
}

export const deploymentHref = (namespace: string, name: string) => href({ view: "deployment", namespace, name });
