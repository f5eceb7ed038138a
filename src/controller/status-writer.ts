// The one way a reconcile writes an ApplicationDeployment's status to the hub: only when it says
// something the status read at the start of the reconcile does not, counted in the metrics, and
// remembered until the informer's cache shows it. Never computes a status (see status.ts).

import type { ApplicationDeploymentStatus } from "../api/types.js";
import { statusChanged } from "./status.js";
import type { Key, TermState } from "./term-state.js";

/** What the writer needs of the hub. */
export interface StatusPatcher {
  /** Replaces the status; returns the object's new resourceVersion when the hub says it. */
  patchDeploymentStatus(namespace: string, name: string, status: ApplicationDeploymentStatus): Promise<string | undefined>;
}

export interface StatusWriterOptions {
  hub: StatusPatcher;
  key: Key;
  namespace: string;
  name: string;
  /** The status the reconcile started from: a status equal to it is not written. */
  previous: ApplicationDeploymentStatus | undefined;
  /** The resourceVersion the reconcile started from, if the object has one. */
  resourceVersion: string | undefined;
  /** Where the written status is kept until the cache shows it (TermState.ownStatus). */
  ownStatus: TermState["ownStatus"];
  /** Called after every write the hub took. Default: nothing. */
  onWrite?: () => void;
}

/** One per reconcile: it tracks the versions of the object whose status predates its writes. */
export class StatusWriter {
  private readonly before: Set<string>;

  constructor(private readonly o: StatusWriterOptions) {
    this.before = new Set(o.resourceVersion ? [o.resourceVersion] : []);
  }

  /**
   * Another write of this reconcile (the finalizer) moved the object to `resourceVersion`; its
   * status is still the one before, so a cache showing that version has not seen this writer yet.
   */
  predates(resourceVersion: string | undefined): void {
    if (resourceVersion) this.before.add(resourceVersion);
  }

  /** Writes `status` unless it says nothing new; returns whether it wrote. */
  async write(status: ApplicationDeploymentStatus): Promise<boolean> {
    if (!statusChanged(this.o.previous, status)) return false;
    const rv = await this.o.hub.patchDeploymentStatus(this.o.namespace, this.o.name, status);
    this.o.onWrite?.();
    this.o.ownStatus.set(this.o.key, { stale: new Set(this.before), status });
    if (rv) this.before.add(rv);
    return true;
  }
}
