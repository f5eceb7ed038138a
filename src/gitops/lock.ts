// A single in-process mutex: commits, pushes and packing of one repository run one at a time, so
// the branch moves strictly forward and no two writers build on the same parent. Not a
// cross-process lock: one controller process owns one repository directory.

export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Run `task` after every task queued before it; its failure does not poison later tasks. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
