// Proves the API and the examples against real API servers: the CRDs are accepted by the hub
// (structural schemas, printer columns), every example is accepted as a custom resource, every
// example's rendered manifests pass a server-side dry run on a member, and the deploy/ bundle is valid.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster } from "../../src/api/types.js";
import { readBundle } from "../../src/cli/bundle.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { buildRegistry } from "../../src/definitions/registry.js";
import { place } from "../../src/placement/select.js";
import { renderDeployment } from "../../src/render/render.js";
import { fullRolloutTargets } from "../../src/rollout/targets.js";
import { SecretOpener } from "../../src/sync/sealed.js";
import { kubeConfig, kubectl, withNamespace } from "./support/fleet.js";

const ROOT = join(import.meta.dirname, "..", "..");

async function examples(): Promise<string[]> {
  return (await readdir(join(ROOT, "examples"), { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function readExample(name: string): Promise<{ deployment: ApplicationDeployment; clusters: Cluster[] }> {
  const deployment = parseYamlStream(await readFile(join(ROOT, "examples", name, "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const clusters = parseYamlStream(await readFile(join(ROOT, "examples", name, "clusters.yaml"), "utf8")) as Cluster[];
  return { deployment, clusters };
}

describe("the hub", () => {
  beforeAll(async () => {
    await installToHub({ kubeConfig: kubeConfig("hub"), definitionDirs: [builtinDefinitionsDir()] });
  }, 120_000);

  it("serves every CRD in crds/ (eight kinds) with the printer columns of ApplicationDeployment", async () => {
    const files = (await readdir(join(ROOT, "crds"))).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect(files.length).toBe(8);
    const { stdout } = await kubectl("hub", ["get", "crd", "-o", "name"]);
    for (const f of files) expect(stdout).toContain(`customresourcedefinition.apiextensions.k8s.io/${f.replace(/\.yaml$/, "")}`);
    // The columns as the API server serves them (a table needs no deployment to exist, unlike `kubectl get`'s output).
    const { stdout: columns } = await kubectl("hub", [
      "get",
      "crd",
      "applicationdeployments.flotilla.dev",
      "-o",
      "jsonpath={.spec.versions[*].additionalPrinterColumns[*].name}",
    ]);
    expect(columns.trim().split(/\s+/)).toEqual(["PHASE", "TARGET", "STABLE", "PROGRESS", "READY", "MESSAGE", "AGE"]);
  });

  it("stores every built-in definition as a custom resource", async () => {
    const docs = (await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments()) as Array<{ kind: string; metadata: { name: string } }>;
    const { stdout } = await kubectl("hub", ["get", "compdef,traitdef", "-o", "name"]);
    for (const d of docs) expect(stdout).toContain(`${d.kind.toLowerCase()}.flotilla.dev/${d.metadata.name}`);
  });

  it("accepts every example as an ApplicationDeployment with the printer columns", async () => {
    await withNamespace("hub", async (ns) => {
      for (const name of await examples()) {
        const { deployment, clusters } = await readExample(name);
        const doc = { ...deployment, metadata: { ...deployment.metadata, namespace: ns } };
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
        await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=test", "-f", "-"], {
          input: clusters.map(toYaml).join("---\n"),
        });
      }
      const { stdout } = await kubectl("hub", ["get", "ad", "-n", ns]);
      expect(stdout).toMatch(/NAME\s+PHASE\s+TARGET\s+STABLE\s+PROGRESS\s+READY\s+MESSAGE\s+AGE/);
      for (const name of await examples()) {
        const { deployment } = await readExample(name);
        expect(stdout).toContain(deployment.metadata.name);
      }
    });
  });

  it("refuses a deployment with an unknown field type at the API server", async () => {
    await withNamespace("hub", async (ns) => {
      const bad = `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: bad, namespace: ${ns}}
spec:
  appRevisions:
    - name: v1
      template: {spec: {components: [{name: a, type: worker}]}}
      rollout: {replicas: "many"}
`;
      const result = await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: bad, allowFailure: true });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("spec.appRevisions[0].rollout.replicas");
    });
  });

  it("passes a server-side dry run of every example's rendered manifests on a member", async () => {
    const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
    const identityFile = await readFile(join(import.meta.dirname, "..", "fixtures", "sealed", "example-identity.txt"), "utf8");
    const exampleIdentity = identityFile.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-")) as string;
    const opener = new SecretOpener(async () => exampleIdentity);
    await withNamespace("prod-eu", async (ns) => {
      let objects = 0;
      for (const name of await examples()) {
        const { deployment, clusters } = await readExample(name);
        const doc = { ...deployment, metadata: { ...deployment.metadata, namespace: ns } };
        const rendered = await renderDeployment({
          deployment: doc,
          registry,
          targets: fullRolloutTargets(doc, place(doc.spec.placementStrategies, clusters), clusters),
        });
        const manifests = rendered.flatMap((r) => r.manifests);
        expect(manifests.length).toBeGreaterThan(0);
        objects += manifests.length;
        // Sealed Secrets go to the member as the sync loop sends them: opened with the cluster's
        // key (the example's test key), their values base64 of the plaintext.
        const sent = await Promise.all(manifests.map((m) => opener.open(m)));
        const result = await kubectl("prod-eu", ["apply", "--server-side", "--dry-run=server", "--field-manager=flotilla", "-f", "-"], {
          input: sent.map(toYaml).join("---\n"),
          allowFailure: true,
        });
        expect(result.stderr, `${name}: ${result.stderr}`).toBe("");
        expect(result.code).toBe(0);
      }
      expect(objects).toBeGreaterThan(10);
    });
  });

  it("passes a server-side dry run of the deploy/ bundle on the hub, but for its PodDisruptionBudget", async () => {
    // policy/v1 PodDisruptionBudgets are served from Kubernetes 1.21 on; the local fleet's hub is 1.20.
    const objects = readBundle(join(ROOT, "deploy")).filter((o) => o.kind !== "PodDisruptionBudget");
    // The namespace must exist for the namespaced objects' dry run.
    await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", join(ROOT, "deploy", "base", "namespace.yaml")]);
    const result = await kubectl("hub", ["apply", "--server-side", "--dry-run=server", "--field-manager=test", "-f", "-"], {
      input: objects.map(toYaml).join("---\n"),
      allowFailure: true,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("deployment.apps/flotilla-controller serverside-applied (server dry run)");
    expect(result.stdout).toContain("clusterrole.rbac.authorization.k8s.io/flotilla-controller serverside-applied (server dry run)");
    expect(result.stdout).toContain("persistentvolumeclaim/flotilla-data serverside-applied (server dry run)");
  });
});
