// Group commit: deployments reconciled at the same moment share one commit. A change submitted
// while the repository is idle is committed at once, alone (its Git line is exactly the one a
// single commit has); changes submitted while a commit is being written wait for it and then go
// together, so a burst of N reconciles costs a handful of commits instead of N serialized ones.

import type { CommitResult, DeploymentChange } from "./repo.js";

/** What the batcher needs of the repository. */
export interface CommitTarget {
  commitDeployments(changes: readonly DeploymentChange[], message: string): Promise<CommitResult | null>;
}

/** A change with the line Git records for it. */
export interface SubmittedChange extends DeploymentChange {
  summary: string;
}

interface Waiting {
  change: SubmittedChange;
  resolve: (result: CommitResult | null) => void;
  reject: (err: unknown) => void;
}

export interface CommitBatcherOptions {
  /** Most changes in one commit; more wait for the next. Default: 100. */
  maxBatch?: number;
}

export class CommitBatcher {
  private readonly waiting: Waiting[] = [];
  private draining = false;
  private readonly maxBatch: number;

  constructor(
    private readonly repo: CommitTarget,
    options: CommitBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 100);
  }

  /**
   * Commit one deployment's new state, possibly together with others. Resolves to the commit that
   * holds it, or null when its folders already held exactly this (nothing to commit for it).
   * One deployment must not be submitted again before its previous submission settled.
   */
  submit(change: SubmittedChange): Promise<CommitResult | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ change, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting.splice(0, this.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const changes = batch.map((w) => w.change);
    let result: CommitResult | null;
    try {
      result = await this.repo.commitDeployments(changes, batchSummary(changes));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // One bad change must not fail the others: commit each alone, so the error reaches only
      // the deployment it belongs to.
      for (const w of batch) await this.commit([w]);
      return;
    }
    const moved = new Set(result?.changed ?? []);
    for (const w of batch) w.resolve(result && moved.has(`${w.change.namespace}/${w.change.name}`) ? result : null);
  }
}

/** The commit's overall summary: the shared one when all agree, else a generic word. */
function batchSummary(changes: readonly SubmittedChange[]): string {
  const first = changes[0]?.summary ?? "update";
  return changes.every((c) => c.summary === first) ? first : "update";
}
