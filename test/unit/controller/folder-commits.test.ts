import { describe, expect, it } from "vitest";
import { FolderCommits } from "../../../src/controller/folder-commits.js";

// Commits ranked by their number: "c1" < "c2" < "c3".
const order = (commit: string) => Number(commit.slice(1));

describe("FolderCommits", () => {
  it("asks a cluster for the last commit that changed its folder, not the deployment's newest", () => {
    const f = new FolderCommits();
    f.record(
      "ns/app",
      [
        ["prod-eu", "h-eu-1"],
        ["prod-us", "h-us-1"],
      ],
      "c1",
    );
    // c2 changes only prod-us's folder (the next wave, a hand-over to the autoscaler).
    f.record(
      "ns/app",
      [
        ["prod-eu", "h-eu-1"],
        ["prod-us", "h-us-2"],
      ],
      "c2",
    );
    expect(f.required("ns/app", "prod-eu", "c2", order)).toBe("c1");
    expect(f.required("ns/app", "prod-us", "c2", order)).toBe("c2");
    // c3 changes prod-eu's folder: now both need their own commit.
    f.record(
      "ns/app",
      [
        ["prod-eu", "h-eu-3"],
        ["prod-us", "h-us-2"],
      ],
      "c3",
    );
    expect(f.required("ns/app", "prod-eu", "c3", order)).toBe("c3");
    expect(f.required("ns/app", "prod-us", "c3", order)).toBe("c2");
  });

  it("falls back to the deployment's commit without a record, for a new cluster and after forget", () => {
    const f = new FolderCommits();
    expect(f.required("ns/app", "prod-eu", "c4", order)).toBe("c4");
    f.record("ns/app", [["prod-eu", "h1"]], "c1");
    f.record(
      "ns/app",
      [
        ["prod-eu", "h1"],
        ["staging", "h2"],
      ],
      "c2",
    );
    expect(f.required("ns/app", "staging", "c2", order)).toBe("c2");
    f.forget("ns/app");
    expect(f.required("ns/app", "prod-eu", "c2", order)).toBe("c2");
  });

  it("forgets a cluster whose folder went away, so coming back needs the commit that brings it", () => {
    const f = new FolderCommits();
    f.record(
      "ns/app",
      [
        ["prod-eu", "h1"],
        ["prod-us", "h1"],
      ],
      "c1",
    );
    f.record("ns/app", [["prod-us", "h1"]], "c2");
    f.record(
      "ns/app",
      [
        ["prod-eu", "h1"],
        ["prod-us", "h1"],
      ],
      "c3",
    );
    expect(f.required("ns/app", "prod-eu", "c3", order)).toBe("c3");
    expect(f.required("ns/app", "prod-us", "c3", order)).toBe("c1");
  });

  it("never asks for more than the commit given (a status written ahead of a commit)", () => {
    const f = new FolderCommits();
    f.record("ns/app", [["prod-eu", "h1"]], "c1");
    f.record("ns/app", [["prod-eu", "h2"]], "c3");
    expect(f.required("ns/app", "prod-eu", "c2", order)).toBe("c2");
    expect(f.required("ns/app", "prod-eu", undefined, order)).toBeUndefined();
  });
});
