// `flotilla install` and `kubectl apply -k` must apply the same objects: the bundle reader's
// output for deploy/, deploy/git-remote/, deploy/agent/ and crds/ is compared, object by object and field by
// field, with what the kubectl on PATH builds (the setup script installs one when there is none:
// kustomize v2.0.3 in Debian's kubectl 1.20, v5 in recent ones), also after
// `kustomize edit set image`-style edits.

import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseYamlStream } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { AGENT, CONTROLLER, controllerImage, objectLabel, readBundle } from "../../../src/cli/bundle.js";
import { KUBECTL } from "./kubectl.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

function kustomize(dir: string): Manifest[] {
  const run = spawnSync(KUBECTL, ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (run.error)
    throw new Error(`kubectl kustomize ${dir}: ${run.error.message} (the setup script, scripts/install-control-plane.sh, installs kubectl)`, {
      cause: run.error,
    });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${run.status}):\n${run.stderr}`);
  return parseYamlStream(run.stdout) as Manifest[];
}

function byLabel(objects: Manifest[]): Map<string, Manifest> {
  return new Map(objects.map((o) => [objectLabel(o), o]));
}

function expectSameObjects(dir: string): Manifest[] {
  const ours = byLabel(readBundle(dir));
  const theirs = byLabel(kustomize(dir));
  expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [label, object] of ours) expect(object, label).toEqual(theirs.get(label));
  return [...ours.values()];
}

let scratch: string | undefined;
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A copy of deploy/ and crds/ to edit. */
function copyOfBundles(): string {
  scratch ??= mkdtempSync(join(tmpdir(), "flotilla-kustomize-"));
  const dir = mkdtempSync(join(scratch, "copy-"));
  cpSync(join(ROOT, "deploy"), join(dir, "deploy"), { recursive: true });
  cpSync(join(ROOT, "crds"), join(dir, "crds"), { recursive: true });
  return dir;
}

describe("the bundle reader and kubectl kustomize", { timeout: 30_000 }, () => {
  it.each(["deploy", "deploy/git-remote", "deploy/agent", "crds"])("yield the same objects for %s", (dir) => {
    const objects = expectSameObjects(join(ROOT, dir));
    expect(objects.length).toBeGreaterThan(0);
  });

  it.each([
    [
      "deploy",
      "  - name: registry.example.com/flotilla\n    newName: reg.example.org/team/flotilla\n    newTag: '1.2.3'\n",
      "reg.example.org/team/flotilla:1.2.3",
    ],
    ["deploy/git-remote", "images:\n  - name: registry.example.com/flotilla\n    newName: reg.example.org/flotilla\n", "reg.example.org/flotilla:0.1.0"],
    [
      "deploy/agent",
      "images:\n  - name: registry.example.com/flotilla\n    newName: reg.example.org/agent\n    newTag: '2.0.0'\n",
      "reg.example.org/agent:2.0.0",
    ],
    [
      "deploy/git-remote",
      `images:\n  - name: registry.example.com/flotilla\n    digest: sha256:${"a".repeat(64)}\n`,
      `registry.example.com/flotilla@sha256:${"a".repeat(64)}`,
    ],
  ])("yield the same objects for %s after an images edit", (dir, images, image) => {
    const copy = copyOfBundles();
    const file = join(copy, dir, "kustomization.yaml");
    // deploy/kustomization.yaml has no images list of its own; the edits add one (or an entry).
    // deploy/agent's has one, last in the file: an edit replaces it, as `kustomize edit set image` would.
    const text = readFileSync(file, "utf8");
    if (/^images:/m.test(text)) writeFileSync(file, text.replace(/^images:[\s\S]*$/m, images));
    else appendFileSync(file, images.startsWith("images:") ? images : `images:\n${images}`);
    const objects = expectSameObjects(join(copy, dir));
    expect(controllerImage(objects, dir === "deploy/agent" ? AGENT : CONTROLLER)).toBe(image);
  });
});
