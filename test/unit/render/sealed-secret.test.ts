// Secrets reach Git only sealed: the policy lets through a v1 Secret marked flotilla.dev/sealed: age
// whose every data value is an age ciphertext, and refuses any other Secret; a refusal names the
// key at fault and never shows the value. The built-in sealed-secret type renders such a Secret.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/api/errors.js";
import type { Manifest } from "../../../src/api/types.js";
import { validateManifests } from "../../../src/render/kube-schema.js";
import { enforcePolicy } from "../../../src/render/policy.js";
import { renderDeployment } from "../../../src/render/render.js";
import { generateKeyPair, seal, unseal } from "../../../src/secrets/age.js";
import { aComponent, aDeployment, aRevision } from "../builders.js";
import { builtIn } from "../definitions/built-in.js";

const PATH = "spec.appRevisions[0].template.spec.components[0]";
const PLAINTEXT = "hunter2-plaintext-value";
// At the top level: the it.each tables below are built when the file is collected.
const { recipient } = await generateKeyPair();
const sealed = await seal(PLAINTEXT, [recipient]);

function secret(extra: { annotations?: Record<string, string>; data?: Record<string, unknown>; stringData?: Record<string, string> } = {}): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    ...(extra.data ? { data: extra.data } : {}),
    ...(extra.stringData ? { stringData: extra.stringData } : {}),
  } as Manifest;
}

const check = (object: unknown) => enforcePolicy({ object, namespace: "team-a", definition: "raw", clusterScopedAllowed: false, path: PATH });
const MARK = { "flotilla.dev/sealed": "age" };

describe("enforcePolicy: Secrets", () => {
  it("lets a marked Secret whose every value is sealed through, with its marker annotations", () => {
    const result = check(secret({ annotations: { ...MARK, "flotilla.dev/sealed-recipients": "age1x" }, data: { password: sealed, user: sealed } }));
    expect(result).toEqual({
      manifest: expect.objectContaining({
        kind: "Secret",
        data: { password: sealed, user: sealed },
        metadata: expect.objectContaining({ namespace: "team-a" }),
      }),
    });
  });

  it.each([
    ["without the marker", secret({ data: { password: sealed } })],
    ["core/v1 without the marker", { ...secret({ data: { password: sealed } }), apiVersion: "core/v1" }],
    ["with only plaintext stringData", secret({ stringData: { password: PLAINTEXT } })],
  ])("refuses a Secret %s with today's message", (_, object) => {
    const result = check(object);
    expect(result).toEqual({ problem: expect.objectContaining({ message: 'definition "raw" renders Secret "db"; Secrets are never written to Git' }) });
    expect(JSON.stringify(result)).not.toContain(PLAINTEXT);
  });

  it.each([
    ["a plaintext data value", { data: { user: sealed, password: PLAINTEXT } }, 'has data key "password" whose value is not sealed'],
    ["a number as a data value", { data: { pin: 1234 } }, 'has data key "pin" whose value is not sealed'],
    ["stringData beside sealed data", { data: { user: sealed }, stringData: { password: PLAINTEXT } }, "has stringData"],
  ])("refuses a marked Secret with %s, naming what is wrong and never the value", (_, extra, message) => {
    const result = check(secret({ annotations: MARK, ...extra }));
    if (!("problem" in result)) throw new Error("expected a refusal");
    expect(result.problem.message).toContain(message);
    expect(JSON.stringify(result)).not.toContain(PLAINTEXT);
    expect(JSON.stringify(result)).not.toContain("1234");
  });

  it("refuses a marker of another scheme", () => {
    const result = check(secret({ annotations: { "flotilla.dev/sealed": "sops" }, data: { password: sealed } }));
    expect(result).toEqual({ problem: expect.objectContaining({ message: expect.stringContaining('carries flotilla.dev/sealed: "sops"') }) });
  });

  it("keeps the sealed annotations reserved on any other kind", () => {
    const result = check({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", annotations: MARK } });
    expect(result).toEqual({ problem: expect.objectContaining({ message: expect.stringContaining('annotation "flotilla.dev/sealed"') }) });
  });

  it("accepts a marked Secret's armored data in the Kubernetes schema check (data is a map of strings there)", () => {
    const result = check(secret({ annotations: MARK, data: { password: sealed } }));
    if (!("manifest" in result)) throw new Error("expected the Secret to pass");
    for (const version of ["1.28", "1.30"]) expect(validateManifests([result.manifest], version).problems).toEqual([]);
  });
});

describe("the sealed-secret component type", () => {
  const deploymentWith = (settings: Record<string, unknown>, revisions = ["v1"]) => {
    let d = aDeployment("shop").inNamespace("team-a");
    for (const r of revisions) d = d.withRevision(aRevision(r).withComponent(aComponent("db-credentials", "sealed-secret").withSettings(settings)));
    return d.build();
  };
  const render = async (settings: Record<string, unknown>, revisions = ["v1"]) =>
    renderDeployment({
      deployment: deploymentWith(settings, revisions),
      registry: await builtIn(),
      targets: [{ cluster: { name: "prod", labels: {}, version: "1.30.0" }, wave: "w", revisions: revisions.map((name) => ({ name, replicas: 1 })) }],
    });

  it("renders one Secret named after the component, marked, with the ciphertexts as they are and the recipients", async () => {
    const [cluster] = await render({ data: { password: sealed }, recipients: [recipient] });
    expect(cluster?.manifests).toHaveLength(1);
    const s = cluster?.manifests[0] as Manifest;
    expect(s).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      data: { password: sealed },
      metadata: { name: "db-credentials", namespace: "team-a", annotations: { "flotilla.dev/sealed": "age", "flotilla.dev/sealed-recipients": recipient } },
    });
    expect(s.stringData).toBeUndefined();
  });

  it("leaves the recipients annotation out when the settings name none, and keeps a given type", async () => {
    const [cluster] = await render({ data: { "tls.crt": sealed, "tls.key": sealed }, type: "kubernetes.io/tls" });
    const s = cluster?.manifests[0] as Manifest;
    expect(s.type).toBe("kubernetes.io/tls");
    expect(s.metadata.annotations).toEqual({ "flotilla.dev/sealed": "age" });
  });

  it("renders one shared Secret while two revisions run side by side, from the newest", async () => {
    const [cluster] = await render({ data: { password: sealed } }, ["v1", "v2"]);
    const secrets = (cluster?.manifests ?? []).filter((m) => m.kind === "Secret");
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.metadata.labels?.["flotilla.dev/revision"]).toBeUndefined();
  });

  it("refuses a plaintext value at render time naming its key, and never shows the value", async () => {
    const error = await render({ data: { username: sealed, password: PLAINTEXT } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems).toEqual([expect.objectContaining({ path: PATH, message: expect.stringContaining('data key "password" whose value is not sealed') })]);
    expect(JSON.stringify(problems) + String((error as Error).message)).not.toContain(PLAINTEXT);
  });

  it.each([
    ["a key Kubernetes refuses", { data: { "bad/key": "x" } }, `${PATH}.settings.data`],
    ["a recipient that is not an age key", { data: { k: "x" }, recipients: ["ssh-rsa AAA"] }, `${PATH}.settings.recipients[0]`],
  ])("refuses %s in the settings", async (_, settings, path) => {
    const error = await render(settings).catch((e: unknown) => e);
    expect((error as ValidationError).problems).toEqual([expect.objectContaining({ path: expect.stringContaining(path) })]);
  });

  it("renders the example's values so that the example's test identity opens them", async () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    const golden = readFileSync(join(root, "test/golden/sealed-secret/prod-eu.yaml"), "utf8");
    const identity = readFileSync(join(root, "test/fixtures/sealed/example-identity.txt"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("AGE-SECRET-KEY-1")) as string;
    const block = /password: \|\n((?: {4}.*\n)+)/.exec(golden)?.[1]?.replace(/^ {4}/gm, "") as string;
    expect(Buffer.from(await unseal(block, identity)).toString("utf8")).toBe("example-password-not-secret");
    expect(golden).not.toContain("example-password-not-secret");
  });
});
