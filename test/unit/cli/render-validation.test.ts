// `flotilla render` runs `flotilla validate`'s checks first (issue #19 item 6): whatever validate
// refuses, render refuses with the same messages and exit code, through the commands themselves.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { toYaml } from "../../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { flotilla } from "./render-commands.js";
import { aComponent, aDeployment, aRevision } from "../builders.js";

function withAnalysis(successCondition: string): ApplicationDeployment {
  const d = aDeployment("web")
    .withRevision(aRevision("v1").withComponent(aComponent("web", "webservice").withSettings({ image: "nginx:1.27" })))
    .build();
  const revision = d.spec.appRevisions[0]!;
  revision.rollout = { ...revision.rollout, analysis: { successCondition } };
  return d;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "flotilla-render-validation-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function file(name: string, doc: unknown): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, toYaml(doc));
  return path;
}

describe("flotilla render runs flotilla validate's checks first", () => {
  it("refuses a deployment whose analysis successCondition does not compile, as validate does", async () => {
    const app = await file("bad-analysis.yaml", withAnalysis("revision.readyReplicas =="));
    const validated = await flotilla("validate", "-f", app);
    const rendered = await flotilla("render", "-f", app);
    expect(validated.code).toBe(1);
    expect(validated.stderr).toContain("spec.appRevisions[0].rollout.analysis.successCondition");
    expect(rendered).toEqual({ code: 1, stdout: "", stderr: validated.stderr });
  });

  it("still renders a deployment whose analysis condition compiles", async () => {
    const app = await file("good-analysis.yaml", withAnalysis("revision.readyReplicas == revision.replicas"));
    expect(await flotilla("validate", "-f", app)).toMatchObject({ code: 0, stdout: "1 document(s) valid\n" });
    const rendered = await flotilla("render", "-f", app);
    expect(rendered.code).toBe(0);
    expect(rendered.stdout).toContain("kind: Deployment");
  });

  it("refuses a document that fails its schema with validate's message", async () => {
    const d = withAnalysis("true") as unknown as { spec: { appRevisions: unknown } };
    d.spec.appRevisions = "v1";
    const app = await file("bad-schema.yaml", d);
    const validated = await flotilla("validate", "-f", app);
    expect(validated.code).toBe(1);
    expect(await flotilla("render", "-f", app)).toEqual({ code: 1, stdout: "", stderr: validated.stderr });
  });
});
