// The per-cluster sync loop: apply what Git holds for a cluster, prune, correct drift, report health.

export * from "./apply.js";
export * from "./change-watch.js";
export * from "./defaults.js";
export * from "./drift.js";
export * from "./hash.js";
export * from "./health.js";
export * from "./kube.js";
export * from "./observe.js";
export * from "./order.js";
export * from "./prune.js";
export * from "./source.js";
export * from "./sync.js";
export * from "./types.js";
export * from "./worker.js";
