// The admission validator on the bad-input corpus (test/fixtures/bad): every single-document input
// of an admitted kind is refused with the field path and message the corpus expects, i.e. what the
// controller and `flotilla validate` report; plus the rules that keep the webhook from ever
// blocking the controller or hanging kubectl.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/api/errors.js";
import { AdmissionValidator, type AdmissionCheck } from "../../../src/admission/validator.js";
import type { AdmissionRequest, Verdict } from "../../../src/admission/review.js";
import { builtinDefinitionsDir } from "../../../src/cli/inputs.js";
import { FileDefinitionSource, readDocuments } from "../../../src/definitions/loader.js";
import { buildRegistry, type DefinitionRegistry } from "../../../src/definitions/registry.js";

const CORPUS = join(import.meta.dirname, "..", "..", "fixtures", "bad");
const HANG_GUARD_MS = 30_000;

let registry: DefinitionRegistry;
let builtins: unknown[] = [];

beforeAll(async () => {
  builtins = await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments();
  registry = buildRegistry(builtins);
});

function request(object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const o = object as { kind?: string; metadata?: { name?: string; namespace?: string } };
  return {
    uid: "u-1",
    kind: { group: "flotilla.dev", version: "v1alpha1", kind: String(o.kind) },
    operation: "CREATE",
    ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
    ...(o.metadata?.name ? { name: o.metadata.name } : {}),
    object,
    dryRun: false,
    ...extra,
  };
}

function validator(extra: Partial<ConstructorParameters<typeof AdmissionValidator>[0]> = {}): AdmissionValidator {
  return new AdmissionValidator({ registry: () => registry, ...extra });
}

const deployment = (type = "worker", settings: Record<string, unknown> = { image: "myimage-v1" }) => ({
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "ApplicationDeployment",
  metadata: { name: "example-deploy", namespace: "team-a" },
  spec: { appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "backend", type, settings }] } } }] },
});

interface Case {
  name: string;
  path: string;
  message: string;
  doc: unknown;
}

/** The corpus inputs the API server could be sent: one document of an admitted kind, in flotilla.dev/v1alpha1. */
async function corpus(): Promise<{ cases: Case[]; skipped: string[] }> {
  const cases: Case[] = [];
  const skipped: string[] = [];
  for (const name of readdirSync(CORPUS)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    const text = readFileSync(join(CORPUS, name), "utf8");
    const header = new Map<string, string>();
    for (const line of text.split("\n")) {
      if (!line.startsWith("#")) break;
      const m = /^# (path|message|outcome):(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) header.set(m[1], m[2].trim());
    }
    let docs: unknown[];
    try {
      docs = (await readDocuments([join(CORPUS, name)])).map((d) => d.doc);
    } catch {
      skipped.push(name); // not YAML a client could send as JSON
      continue;
    }
    const doc = docs[0] as { apiVersion?: unknown; kind?: unknown } | undefined;
    const admitted = ["ApplicationDeployment", "ComponentDefinition", "TraitDefinition", "Cluster"].includes(String(doc?.kind));
    if (docs.length !== 1 || doc?.apiVersion !== "flotilla.dev/v1alpha1" || !admitted || header.get("outcome") || header.get("path")?.includes("$FILE")) {
      skipped.push(name);
      continue;
    }
    cases.push({ name, path: header.get("path") ?? "", message: header.get("message") ?? "", doc });
  }
  return { cases, skipped };
}

const { cases } = await corpus();

describe("the bad-input corpus through the admission validator", () => {
  it("covers most of the corpus", () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    "refuses %s with the corpus's field path and message",
    async (_name, c) => {
      const verdict = await validator({ budgetMs: 20_000 }).admit(request(c.doc));
      expect(verdict.allowed, `${c.name} was allowed: ${JSON.stringify(verdict)}`).toBe(false);
      if (verdict.allowed) return;
      expect(verdict.problems).toContainEqual(expect.objectContaining({ path: c.path, message: expect.stringContaining(c.message) }));
    },
    HANG_GUARD_MS,
  );

  it.each([["template-endless-loop.yaml"]])(
    "allows %s (a template stopped at its time budget) with a warning: the controller retries it",
    async (name) => {
      const docs = (await readDocuments([join(CORPUS, name)])).map((d) => d.doc as { kind: string });
      const deploymentDoc = docs.find((d) => d.kind === "ApplicationDeployment");
      const withInline = buildRegistry([...builtins, ...docs.filter((d) => d.kind !== "ApplicationDeployment")]);
      const verdict = await new AdmissionValidator({ registry: () => withInline, budgetMs: 20_000 }).admit(request(deploymentDoc));
      expect(verdict.allowed).toBe(true);
      expect(verdict.warnings?.join("\n")).toMatch(/took longer than \d+ ms.*not refused: it may pass when tried again/);
    },
    HANG_GUARD_MS,
  );
});

describe("AdmissionValidator", () => {
  it("allows the quick start's deployment without a warning", async () => {
    expect(await validator().admit(request(deployment()))).toEqual({ allowed: true });
  });

  it("refuses a misspelt component type with the controller's field path, message and fix", async () => {
    const verdict = await validator().admit(request(deployment("wrker")));
    expect(verdict.allowed).toBe(false);
    if (verdict.allowed) return;
    expect(verdict.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^spec\.appRevisions\[0\]\.template\.spec\.components\[0\]\.type: unknown component type "wrker"\. Use one of: /),
    ]);
  });

  it("answers a repeated spec from its cache, per registry", async () => {
    let reads = 0;
    const v = validator({
      registry: () => {
        reads++;
        return registry;
      },
    });
    const bad = deployment("worker", { image: 42 });
    const first = await v.admit(request(bad));
    const again = await v.admit(request({ ...bad, metadata: { ...bad.metadata, generation: 7, resourceVersion: "99" } }));
    expect(again).toEqual(first);
    expect(reads).toBe(2);
  });

  it("never refuses an update that leaves the spec alone, so a stored invalid object can still be finalized and deleted", async () => {
    const bad = deployment("wrker");
    const withFinalizer = { ...bad, metadata: { ...bad.metadata, finalizers: ["flotilla.dev/cleanup"] } };
    expect(await validator().admit(request(withFinalizer, { operation: "UPDATE", oldObject: bad }))).toEqual({ allowed: true });
    const changed = await validator().admit(request(bad, { operation: "UPDATE", oldObject: deployment() }));
    expect(changed.allowed).toBe(false);
  });

  it.each([
    ["another group", { group: "apps", version: "v1", kind: "Deployment" }],
    ["a Flotilla kind it is not registered for", { group: "flotilla.dev", version: "v1alpha1", kind: "SyncReport" }],
  ])("allows objects of %s untouched", async (_what, kind) => {
    expect(await validator().admit({ ...request({ not: "checked" }), kind })).toEqual({ allowed: true });
  });

  it("checks schemas only, with a warning, while the controller has no definitions yet", async () => {
    const v = validator({ registry: () => undefined });
    const unknownType = await v.admit(request(deployment("wrker")));
    expect(unknownType.allowed).toBe(true);
    expect(unknownType.warnings?.[0]).toContain("not checked");
    const schema = await v.admit(request({ ...deployment(), spec: { appRevisions: [] } }));
    expect(schema.allowed).toBe(false);
  });

  it("refuses a definition whose template does not compile, naming the field", async () => {
    const def = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ComponentDefinition",
      metadata: { name: "broken" },
      spec: { workload: { apiVersion: "apps/v1", kind: "Deployment" }, template: "{ 'kind': " },
    };
    const verdict = await validator().admit(request(def));
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.problems.map(formatProblem).join("\n")).toContain("spec.template");
  });

  it("runs added checks (tenancy's seam) on valid objects, with the context, and refuses with their problems", async () => {
    const seen: unknown[] = [];
    const check: AdmissionCheck = (_object, context) => {
      seen.push({ kind: context.kind, namespace: context.namespace, registry: context.registry === registry });
      return [{ path: "spec.placementStrategies", message: "namespace team-a may not deploy to cluster pci-1 (policy restricted-clusters)" }];
    };
    const verdict = await validator({ checks: [check] }).admit(request(deployment()));
    expect(seen).toEqual([{ kind: "ApplicationDeployment", namespace: "team-a", registry: true }]);
    expect(verdict).toMatchObject({ allowed: false, problems: [{ path: "spec.placementStrategies" }] });
    // Not asked when the object is already invalid.
    await validator({ checks: [check] }).admit(request(deployment("wrker")));
    expect(seen).toHaveLength(1);
  });

  it("validates a TenantPolicy with the API's schema", async () => {
    const policy = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "TenantPolicy",
      metadata: { name: "p" },
      spec: { namespaces: { names: ["team-a"] }, clusters: 3 },
    };
    expect(await validator().admit(request(policy))).toMatchObject({
      allowed: false,
      problems: [{ path: "spec.clusters", message: "must be object (got 3)" }],
    });
    const valid = { ...policy, spec: { namespaces: { names: ["team-a"] } } };
    expect(await validator().admit(request(valid))).toEqual({ allowed: true });
  });

  it("refuses a rendered kind the namespace's TenantPolicy denies, naming the policy, and only there", async () => {
    const grants = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name: "grants", namespace: "team-a" },
      spec: {
        appRevisions: [
          {
            name: "v1",
            template: {
              spec: {
                components: [
                  {
                    name: "rbac",
                    type: "k8s-objects",
                    settings: {
                      objects: [
                        {
                          apiVersion: "rbac.authorization.k8s.io/v1",
                          kind: "RoleBinding",
                          metadata: { name: "make-me-admin" },
                          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
                          subjects: [{ kind: "ServiceAccount", name: "default", namespace: "team-a" }],
                        },
                      ],
                    },
                  },
                ],
              },
            },
          },
        ],
      },
    };
    const policy = {
      apiVersion: "flotilla.dev/v1alpha1" as const,
      kind: "TenantPolicy" as const,
      metadata: { name: "tenants", resourceVersion: "1" },
      spec: { namespaces: { names: ["team-a"] } },
    };
    const tenancy = (namespace: string) => ({ namespace, policies: namespace === "team-a" ? [policy] : [] });
    const refused = await validator({ tenancy }).admit(request(grants));
    expect(refused.allowed).toBe(false);
    const said = refused.allowed ? "" : refused.problems.map((p) => p.message).join("\n");
    expect(said).toContain("make-me-admin");
    expect(said).toContain("policy tenants");
    const elsewhere = { ...grants, metadata: { name: "grants", namespace: "team-b" } };
    expect(await validator({ tenancy }).admit(request(elsewhere))).toEqual({ allowed: true });
    // Policies not read yet: allowed, and the warning says kinds were not checked.
    const unknown = await validator({ tenancy: () => undefined }).admit(request(grants));
    expect(unknown.allowed).toBe(true);
    expect(unknown.warnings?.join(" ")).toContain("TenantPolicies");
  });

  it("allows with a warning when a check fails or runs past the budget, instead of refusing or hanging", async () => {
    const failing = await validator({
      checks: [
        () => {
          throw new Error("boom");
        },
      ],
    }).admit(request(deployment()));
    expect(failing).toEqual({ allowed: true, warnings: [expect.stringContaining("could not check this object (Error: boom)")] });
    const slow = await validator({ budgetMs: 50, checks: [() => new Promise<never>(() => {})] }).admit(request(deployment()));
    expect(slow).toEqual({ allowed: true, warnings: [expect.stringContaining("not fully checked within 50 ms")] });
  });
});

describe("verdicts", () => {
  it("are plain data", () => {
    const v: Verdict = { allowed: false, problems: [{ path: "a", message: "b" }] };
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });
});
