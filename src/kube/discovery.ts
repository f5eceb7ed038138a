// API discovery per group/version: which kinds a cluster serves, under which REST name, and
// whether they live in a namespace. Cached; a failed fetch is dropped so the next ask retries.

import { isRetryableStatus, KubeApiError } from "../api/errors.js";
import { groupVersionPath } from "./refs.js";
import { httpError } from "./status.js";
import type { Transport } from "./transport.js";

/** How a kind is served: its REST collection and whether it lives in a namespace. */
export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

export class Discovery {
  /** kind → resource, per group/version. */
  private readonly known = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(private readonly transport: Transport) {}

  /** REST information for a kind; re-discovers its group/version once when the kind is unknown. */
  async resource(apiVersion: string, kind: string, object: string = kind): Promise<ResourceInfo> {
    const known = (await this.discover(apiVersion, false)).get(kind);
    if (known) return known;
    // A kind can appear after the first discovery (a CRD just became Established): look once more.
    const fresh = (await this.discover(apiVersion, true)).get(kind);
    if (fresh) return fresh;
    throw new KubeApiError(`the cluster does not serve kind ${kind} in ${apiVersion}; install its CRD or fix apiVersion`, {
      object,
      status: 404,
      reason: "NotFound",
      retryable: isRetryableStatus(404),
    });
  }

  /** Forget a group/version (or everything), e.g. after a CRD changed. */
  forget(apiVersion?: string): void {
    if (apiVersion === undefined) this.known.clear();
    else this.known.delete(apiVersion);
  }

  private discover(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceInfo>> {
    const cached = this.known.get(apiVersion);
    if (cached && !refresh) return cached;
    const pending = (async () => {
      const res = await this.transport.request("GET", groupVersionPath(apiVersion), { verb: "discovery" });
      const out = new Map<string, ResourceInfo>();
      if (res.status === 404) return out; // group/version not served (yet)
      if (res.status >= 300) throw httpError(res, apiVersion, `discovery of ${apiVersion} failed`);
      const resources = (res.body as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [];
      for (const r of resources) {
        if (r.name.includes("/")) continue; // subresources such as deployments/status
        out.set(r.kind, { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
      }
      return out;
    })();
    this.known.set(apiVersion, pending);
    pending.catch(() => {
      if (this.known.get(apiVersion) === pending) this.known.delete(apiVersion);
    });
    return pending;
  }
}
