// The one status writer: writes only what is new, and remembers which versions of the object
// predate its writes so a reconcile running before the watch delivers them plans from them.

import { describe, expect, it } from "vitest";
import type { ApplicationDeploymentStatus } from "../../../src/api/types.js";
import { type StatusPatcher, StatusWriter } from "../../../src/controller/status-writer.js";
import { TermState } from "../../../src/controller/term-state.js";

const status = (phase: "Healthy" | "Progressing", appliedCommit = "b".repeat(40)): ApplicationDeploymentStatus => ({
  observedGeneration: 1,
  phase,
  clusters: [{ name: "prod-eu", health: "Healthy", revisions: [], appliedCommit }],
});

/** A hub that records each patch and answers with resourceVersions "11", "12", ... */
function aHub(): StatusPatcher & { patches: Array<{ namespace: string; name: string; status: ApplicationDeploymentStatus }> } {
  const patches: Array<{ namespace: string; name: string; status: ApplicationDeploymentStatus }> = [];
  return {
    patches,
    patchDeploymentStatus: async (namespace, name, s) => {
      patches.push({ namespace, name, status: s });
      return String(10 + patches.length);
    },
  };
}

function aWriter(previous: ApplicationDeploymentStatus | undefined, resourceVersion: string | undefined) {
  const hub = aHub();
  const term = new TermState();
  let writes = 0;
  const writer = new StatusWriter({
    hub,
    key: "team-a/shop",
    namespace: "team-a",
    name: "shop",
    previous,
    resourceVersion,
    ownStatus: term.ownStatus,
    onWrite: () => writes++,
  });
  return { hub, term, writer, writes: () => writes };
}

describe("StatusWriter", () => {
  it("does not write a status that differs from the one read only in applied commits", async () => {
    const { hub, term, writer, writes } = aWriter(status("Healthy"), "10");
    expect(await writer.write(status("Healthy", "c".repeat(40)))).toBe(false);
    expect(hub.patches).toEqual([]);
    expect(writes()).toBe(0);
    expect(term.ownStatus.has("team-a/shop")).toBe(false);
  });

  it("writes a changed status to the deployment's status and counts it", async () => {
    const { hub, writer, writes } = aWriter(status("Progressing"), "10");
    expect(await writer.write(status("Healthy"))).toBe(true);
    expect(hub.patches).toEqual([{ namespace: "team-a", name: "shop", status: status("Healthy") }]);
    expect(writes()).toBe(1);
  });

  it("compares every write with the status read at the start, not with its own last write", async () => {
    const { hub, writer } = aWriter(status("Progressing"), "10");
    await writer.write(status("Healthy"));
    expect(await writer.write(status("Healthy"))).toBe(true);
    expect(hub.patches).toHaveLength(2);
  });

  it("keeps what it wrote with every version known to predate the write, the finalizer's included", async () => {
    const { term, writer } = aWriter(undefined, "10");
    writer.predates("20");
    writer.predates(undefined);
    await writer.write(status("Progressing"));
    expect(term.ownStatus.get("team-a/shop")).toEqual({ stale: new Set(["10", "20"]), status: status("Progressing") });
    // The hub answered the first write with version "11": it predates the second write.
    await writer.write(status("Healthy"));
    expect(term.ownStatus.get("team-a/shop")).toEqual({ stale: new Set(["10", "20", "11"]), status: status("Healthy") });
  });

  it("starts with no stale version when the object has none", async () => {
    const { term, writer } = aWriter(undefined, undefined);
    await writer.write(status("Progressing"));
    expect(term.ownStatus.get("team-a/shop")?.stale).toEqual(new Set());
  });
});
