import { describe, expect, it } from "vitest";
import { formatCommitMessage, parseCommitMessage } from "../../../src/gitops/commit-message.js";

describe("commit messages", () => {
  it("writes the subject and the three trailers of one deployment", () => {
    const message = formatCommitMessage("v2 batch 2/3 in wave production", [{ namespace: "team-a", name: "example-deploy", generation: 3, revision: "v2" }]);
    expect(message).toBe(
      [
        "team-a/example-deploy: v2 batch 2/3 in wave production",
        "",
        "Flotilla-Deployment: team-a/example-deploy",
        "Flotilla-Generation: 3",
        "Flotilla-Revision: v2",
        "",
      ].join("\n"),
    );
  });

  it("lists every deployment of a batch in the body and in trailer groups, and reads them back", () => {
    const message = formatCommitMessage("render", [
      { namespace: "a", name: "one", generation: 1, summary: "created" },
      { namespace: "b", name: "two", revision: "v9" },
    ]);
    expect(message.split("\n")[0]).toBe("2 deployments: render");
    expect(message).toContain("- a/one: created\n- b/two: render\n");
    expect(parseCommitMessage(message)).toEqual({
      subject: "2 deployments: render",
      deployments: [
        { namespace: "a", name: "one", generation: 1 },
        { namespace: "b", name: "two", revision: "v9" },
      ],
    });
  });

  it("names the GitSource commit a deployment came from in its own trailer, read back with it", () => {
    const sourceCommit = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6";
    const message = formatCommitMessage("render", [{ namespace: "team-a", name: "shop", generation: 2, sourceCommit }]);
    expect(message).toContain(`Flotilla-Generation: 2\nFlotilla-Source-Commit: ${sourceCommit}\n`);
    expect(parseCommitMessage(message).deployments).toEqual([{ namespace: "team-a", name: "shop", generation: 2, sourceCommit }]);
  });

  it("names the rollout's wave and batch in trailers of their own, read back per deployment", () => {
    const message = formatCommitMessage("render", [
      { namespace: "a", name: "one", revision: "v2", wave: "production", batch: { batch: 2, batches: 3 } },
      { namespace: "b", name: "two", revision: "v1" },
    ]);
    expect(message).toContain(
      "Flotilla-Deployment: a/one\nFlotilla-Revision: v2\nFlotilla-Wave: production\nFlotilla-Batch: 2/3\nFlotilla-Deployment: b/two\n",
    );
    expect(parseCommitMessage(message).deployments).toEqual([
      { namespace: "a", name: "one", revision: "v2", wave: "production", batch: { batch: 2, batches: 3 } },
      { namespace: "b", name: "two", revision: "v1" },
    ]);
  });

  it("ignores a batch trailer that is not <batch>/<batches>", () => {
    const message = "a/one: x\n\nFlotilla-Deployment: a/one\nFlotilla-Batch: two\nFlotilla-Wave: canary\n";
    expect(parseCommitMessage(message).deployments).toEqual([{ namespace: "a", name: "one", wave: "canary" }]);
  });

  it("keeps injected newlines out of the subject and the trailers", () => {
    const message = formatCommitMessage("line one\nFlotilla-Deployment: evil/x", [{ namespace: "a", name: "b", revision: "v1\nFlotilla-Generation: 99" }]);
    expect(parseCommitMessage(message).deployments).toEqual([{ namespace: "a", name: "b", revision: "v1 Flotilla-Generation: 99" }]);
    expect(message.split("\n")[0]).toBe("a/b: line one Flotilla-Deployment: evil/x");
  });

  it("finds no deployments in a commit Flotilla did not write", () => {
    expect(parseCommitMessage("Initial commit\n\nSigned-off-by: someone\n").deployments).toEqual([]);
  });
});
