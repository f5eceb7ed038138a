// The environment repository module: layout of the files, incremental commits, reads by commit.

export * from "./commit-message.js";
export * from "./layout.js";
export type { ClusterDiff } from "./reads.js";
export type { RemoteOptions } from "./remote.js";
export * from "./repo.js";
