// `flotilla definitions list|show` as a user runs them, on the built-in definitions (read from
// definitions/ for what to expect), a folder of one's own, a fake hub (a plain HTTP server that
// answers discovery and the two lists), a hub without Flotilla's CRDs and one that does not answer.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, flotilla } from "./compiled-cli.js";

let tmp: string;
/** Fake hubs: one serving definitions, one without Flotilla's CRDs. */
const hubs: Server[] = [];

/** The hub's objects, as a list returns them (no apiVersion and kind on items). */
const HUB_ITEMS: Record<string, unknown[]> = {
  componentdefinitions: [
    {
      metadata: { name: "webservice", annotations: { "flotilla.dev/description": "the hub's webservice" }, managedFields: [{ manager: "flotilla-install" }] },
      spec: { workload: { apiVersion: "apps/v1", kind: "Deployment" }, schema: { type: "object", properties: { image: { type: "string" } } }, template: "{}" },
    },
  ],
  traitdefinitions: [{ metadata: { name: "team-quota" }, spec: { appliesTo: ["apps/v1/Deployment"], scope: "component", outputs: "[]" } }],
};

/** A fake hub's answer: discovery of flotilla.dev/v1alpha1 (only with `crds`), then the lists. */
function answer(path: string, crds: boolean): { code: number; body: unknown } {
  if (!crds) return { code: 404, body: { kind: "Status", code: 404 } };
  if (path === "/apis/flotilla.dev/v1alpha1") {
    return {
      code: 200,
      body: {
        kind: "APIResourceList",
        groupVersion: "flotilla.dev/v1alpha1",
        resources: [
          { name: "componentdefinitions", kind: "ComponentDefinition", namespaced: false },
          { name: "traitdefinitions", kind: "TraitDefinition", namespaced: false },
        ],
      },
    };
  }
  const plural = path.split("/").at(-1) ?? "";
  return plural in HUB_ITEMS
    ? { code: 200, body: { kind: "List", metadata: {}, items: HUB_ITEMS[plural] } }
    : { code: 404, body: { kind: "Status", code: 404 } };
}

/** A kubeconfig for a fake hub on 127.0.0.1. */
async function fakeHub(file: string, crds: boolean): Promise<void> {
  const hub = createServer((req, res) => {
    const { code, body } = answer(new URL(req.url ?? "/", "http://hub").pathname, crds);
    res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  hubs.push(hub);
  await new Promise<void>((resolve) => hub.listen(0, "127.0.0.1", resolve));
  const { port } = hub.address() as AddressInfo;
  await writeFile(
    join(tmp, file),
    [
      "apiVersion: v1",
      "kind: Config",
      // client-node speaks plain HTTP only to a cluster marked insecure.
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      "users: [{name: someone, user: {token: not-a-secret}}]",
      "contexts: [{name: fake, context: {cluster: fake, user: someone}}]",
      "current-context: fake",
      "",
    ].join("\n"),
  );
}

/** A trait named like the webservice component, with a usage comment, in a folder of its own. */
const OWN_TRAIT = `# webservice — a trait that shares its name with the component.
# It only exists for this test.
#
# Example:
#   traits:
#     - name: webservice
#       properties: {level: 3}
apiVersion: flotilla.dev/v1alpha1
kind: TraitDefinition
metadata:
  name: webservice
  annotations:
    flotilla.dev/description: "A trait of the same name"
spec:
  appliesTo: ["apps/v1/Deployment"]
  schema:
    type: object
    properties:
      level: {type: integer, minimum: 1, default: 1, description: How much.}
  patch: "{}"
`;

/** The columns of the row of `name` and `kind` in a table. */
function row(table: string, name: string, kind: string): string[] | undefined {
  return table
    .split("\n")
    .map((l) => l.split(/\s{2,}/))
    .find((cells) => cells[0] === name && cells[1] === kind);
}

beforeAll(async () => {
  buildCli();
  tmp = await mkdtemp(join(tmpdir(), "flotilla-definitions-"));
  await writeFile(join(tmp, "webservice-trait.yaml"), OWN_TRAIT);
  await writeFile(
    join(tmp, "closed.kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: closed, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
      "users: [{name: someone, user: {token: not-a-secret}}]",
      "contexts: [{name: closed, context: {cluster: closed, user: someone}}]",
      "current-context: closed",
      "",
    ].join("\n"),
  );
  await fakeHub("hub.kubeconfig", true);
  await fakeHub("bare.kubeconfig", false);
}, 180_000);

afterAll(async () => {
  for (const hub of hubs) await new Promise((resolve) => hub.close(resolve));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("flotilla definitions", { timeout: 60_000 }, () => {
  it("lists the built-in components and traits with their workload, the kinds a trait fits and the description", async () => {
    const list = await flotilla(["definitions", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")[0]?.split(/\s{2,}/)).toEqual(["NAME", "KIND", "WORKLOAD", "DESCRIPTION"]);
    expect(row(list.stdout, "webservice", "component")).toEqual([
      "webservice",
      "component",
      "apps/v1/Deployment",
      "Long-running, scalable service with a stable endpoint (Deployment + Service)",
    ]);
    expect(row(list.stdout, "env", "trait")).toEqual([
      "env",
      "trait",
      "Deployment,StatefulSet,DaemonSet,Job,CronJob",
      "Set environment variables on a container",
    ]);
    expect(row(list.stdout, "pdb", "trait")).toEqual([
      "pdb",
      "trait",
      "Deployment,StatefulSet",
      "Limit voluntary evictions of the component's pods (PodDisruptionBudget)",
    ]);
    expect(row(list.stdout, "labels", "trait")?.[2]).toBe("*");
    // Components come before traits.
    expect(list.stdout.indexOf("worker ")).toBeLessThan(list.stdout.indexOf("annotations "));
    expect((await flotilla(["definitions", "ls"])).stdout).toBe(list.stdout);
  });

  it("prints the definitions as a List with -o json, and refuses a format it does not know with exit 2", async () => {
    const json = await flotilla(["definitions", "list", "-o", "json"]);
    expect(json.code).toBe(0);
    const items = (JSON.parse(json.stdout) as { kind: string; items: Array<{ kind: string; metadata: { name: string } }> }).items;
    expect(items.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(expect.arrayContaining(["ComponentDefinition/webservice", "TraitDefinition/gateway"]));
    const bad = await flotilla(["definitions", "list", "-o", "xml"]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: 'error: --output: "xml" is not a format. Use table, wide, json or yaml.\n' });
  });

  it("shows the env trait: what it applies to, its parameters and the example of its usage comment", async () => {
    const show = await flotilla(["definitions", "show", "env"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("Kind:           TraitDefinition\n");
    expect(show.stdout).toContain(
      "Applies to:     apps/v1/Deployment, apps/v1/StatefulSet, apps/v1/DaemonSet, batch/v1/Job, batch/v1/CronJob, batch/v1beta1/CronJob\n",
    );
    expect(show.stdout).toContain("Scope:          revision");
    const table = show.stdout.slice(show.stdout.indexOf("Properties (traits[].properties):"));
    expect(row(table, "env", "map[string](string|object)")?.slice(0, 4)).toEqual(["env", "map[string](string|object)", "-", "no"]);
    expect(row(table, "env", "map[string](string|object)")?.[4]).toMatch(/^Variables to set, NAME → a value, or \{valueFrom\}/);
    expect(row(table, "env.<key>.valueFrom.secretKeyRef.key", "string")?.slice(2, 4)).toEqual(["-", "yes"]);
    expect(row(table, "containerName", "string")?.slice(2, 4)).toEqual(["-", "no"]);
    expect(show.stdout).toContain('Example:\n  traits:\n    - name: env\n      properties:\n        env: {LOG_LEVEL: debug, FEATURE_X: "on"}\n');
  });

  it("shows the webservice component: workload, replicas path, nested port fields with enums and defaults, and its example", async () => {
    const show = await flotilla(["definitions", "show", "webservice"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("Workload:      apps/v1/Deployment\nReplicas path: spec.replicas\n");
    const table = show.stdout.slice(show.stdout.indexOf("Settings (components[].settings):"));
    expect(row(table, "image", "string")).toEqual(["image", "string", "-", "yes", 'Container image reference, e.g. "nginx:1.27".']);
    expect(row(table, "cpu", "string|number")?.[3]).toBe("no");
    expect(row(table, "ports", "[]object")?.slice(2, 4)).toEqual(["[]", "no"]);
    expect(row(table, "ports[].port", "integer")?.slice(2, 4)).toEqual(["-", "yes"]);
    expect(row(table, "ports[].protocol", "enum(TCP,UDP,SCTP)")?.slice(2, 4)).toEqual(["TCP", "no"]);
    expect(row(table, "exposeType", "enum(ClusterIP,NodePort,LoadBalancer)")?.[2]).toBe("ClusterIP");
    expect(show.stdout).toContain("      type: webservice\n      settings:\n        image: nginx:1.27\n");
    const yamlOut = await flotilla(["definitions", "show", "webservice", "-o", "yaml"]);
    const doc = yaml.load(yamlOut.stdout) as { kind: string; spec: { workload: { kind: string } } };
    expect([doc.kind, doc.spec.workload.kind]).toEqual(["ComponentDefinition", "Deployment"]);
  });

  it("shows the gateway's path map and the pdb's integer-or-percentage fields", async () => {
    const gateway = await flotilla(["definitions", "show", "gateway"]);
    expect(row(gateway.stdout, "http", "map[string]integer")?.[3]).toBe("yes");
    expect(gateway.stdout).toContain("Scope:          component");
    const pdb = await flotilla(["definitions", "show", "pdb", "-o", "wide"]);
    expect(row(pdb.stdout, "minAvailable", "integer|string")?.[4]).toBe(">=0; pattern ^[0-9]{1,3}%$");
    expect(pdb.stdout).toContain("Notes:\n  pdb — a PodDisruptionBudget");
  });

  it("reads a --definitions folder too, and asks for --kind when a name is both a component and a trait", async () => {
    const list = await flotilla(["definitions", "list", "--definitions", tmp, "-o", "wide"]);
    expect(row(list.stdout, "webservice", "trait")?.slice(3)).toEqual(["revision", join(tmp, "webservice-trait.yaml"), "A trait of the same name"]);
    expect(row(list.stdout, "webservice", "component")?.[4]).toBe("definitions/components/webservice.yaml (built-in)");
    const both = await flotilla(["definitions", "show", "webservice", "--definitions", tmp]);
    expect({ code: both.code, stderr: both.stderr }).toEqual({
      code: 1,
      stderr: 'error: "webservice" is both a ComponentDefinition and a TraitDefinition. Pass --kind component or --kind trait.\n',
    });
    const own = await flotilla(["definitions", "show", "webservice", "--kind", "trait", "--definitions", tmp]);
    expect(own.code).toBe(0);
    expect(row(own.stdout, "level", "integer")).toEqual(["level", "integer", "1", "no", "How much."]);
    expect(own.stdout).toContain("Example:\n  traits:\n    - name: webservice\n      properties: {level: 3}\n");
    const badKind = await flotilla(["definitions", "show", "webservice", "--kind", "policy"]);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain("Allowed choices are component, trait.");
  });

  it("names the definitions close to a name that does not exist", async () => {
    const missing = await flotilla(["definitions", "show", "webservise"]);
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({
      code: 1,
      stderr: 'error: no ComponentDefinition or TraitDefinition named "webservise". Did you mean webservice? `flotilla definitions list` shows them all.\n',
    });
  });

  it("reads the hub with --kubeconfig (exit 3 when it does not answer) and refuses --definitions with it", async () => {
    const closed = await flotilla(["definitions", "list", "--kubeconfig", join(tmp, "closed.kubeconfig")]);
    expect(closed.code).toBe(3);
    const both = await flotilla(["definitions", "list", "--hub", "--definitions", tmp]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--definitions adds local folders to the built-ins, --hub (--kubeconfig, --context) reads the hub's definitions");
  });

  it("lists and shows the hub's definitions with --kubeconfig, saying where the examples are", async () => {
    const hub = join(tmp, "hub.kubeconfig");
    const list = await flotilla(["definitions", "list", "--kubeconfig", hub, "-o", "wide"]);
    expect(list.code).toBe(0);
    expect(row(list.stdout, "webservice", "component")).toEqual(["webservice", "component", "apps/v1/Deployment", "<none>", "hub", "the hub's webservice"]);
    expect(row(list.stdout, "team-quota", "trait")).toEqual(["team-quota", "trait", "Deployment", "component", "hub", "<none>"]);
    expect(list.stdout).not.toContain("gateway");
    const json = JSON.parse((await flotilla(["definitions", "list", "--kubeconfig", hub, "-o", "json"])).stdout) as {
      items: Array<{ apiVersion: string; kind: string; metadata: { name: string; managedFields?: unknown } }>;
    };
    expect(json.items.map((d) => [d.apiVersion, d.kind, d.metadata.name, d.metadata.managedFields])).toEqual([
      ["flotilla.dev/v1alpha1", "ComponentDefinition", "webservice", undefined],
      ["flotilla.dev/v1alpha1", "TraitDefinition", "team-quota", undefined],
    ]);
    const builtin = await flotilla(["definitions", "show", "webservice", "--kubeconfig", hub]);
    expect(builtin.stdout).toContain("Source:        hub\n");
    expect(row(builtin.stdout, "image", "string")?.[3]).toBe("no");
    expect(builtin.stdout).toContain("Example: the hub keeps no comments; `flotilla definitions show webservice` without --hub prints the built-in's.\n");
    const own = await flotilla(["definitions", "show", "team-quota", "--kubeconfig", hub]);
    expect(own.stdout).toContain("Properties (traits[].properties): no schema, anything is accepted as given.");
    expect(own.stdout).toContain("Example: the hub keeps no comments; see the usage comment of the file the definition was applied from.\n");
  });

  it("says how to install the CRDs on a hub that serves no definitions", async () => {
    const bare = await flotilla(["definitions", "list", "--kubeconfig", join(tmp, "bare.kubeconfig")]);
    expect({ code: bare.code, stderr: bare.stderr }).toEqual({
      code: 1,
      stderr:
        "error: the hub serves no ComponentDefinition (Flotilla's CRDs are not installed there). Install them with `flotilla install --without-controller`, or drop --hub, --kubeconfig and --context to see the built-in definitions.\n",
    });
  });
});
