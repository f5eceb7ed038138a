import { describe, expect, it } from "vitest";
import type { GitSourceInventoryEntry } from "../../../src/api/types.js";
import {
  formatSourceProblem,
  type PlanInput,
  parseSourceFiles,
  planSource,
  problemsReason,
  type SourceFile,
} from "../../../src/controller/source-documents.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function ad(name: string, options: { image?: string; namespace?: string; extra?: string } = {}): string {
  return [
    "apiVersion: flotilla.dev/v1alpha1",
    "kind: ApplicationDeployment",
    "metadata:",
    `  name: ${name}`,
    ...(options.namespace ? [`  namespace: ${options.namespace}`] : []),
    "  labels: {team: a}",
    "spec:",
    "  appRevisions:",
    "    - name: v1",
    "      template:",
    "        spec:",
    "          components:",
    `            - {name: web, type: webservice, settings: {image: "${options.image ?? "nginx:1.27"}"}}`,
    ...(options.extra ? [options.extra] : []),
    "  placementStrategies:",
    "    - clusterSelector: {labels: {usage: production}}",
    "",
  ].join("\n");
}

function plan(files: SourceFile[], overrides: Partial<PlanInput> = {}) {
  const { documents, problems } = parseSourceFiles(files);
  return planSource({
    source: { namespace: "team-a", name: "apps" },
    commit: COMMIT,
    documents,
    readProblems: problems,
    inventory: [],
    controllerNamespace: "flotilla-system",
    ...overrides,
  });
}

const entry = (name: string, file: string): GitSourceInventoryEntry => ({
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "ApplicationDeployment",
  name,
  namespace: "team-a",
  file,
});

describe("planSource", () => {
  it("applies every ApplicationDeployment of every file into the source's namespace, stamped with source, commit and file", () => {
    const p = plan([
      { path: "apps/web.yaml", text: ad("web") },
      { path: "apps/more.yml", text: `${ad("api")}---\n---\n${ad("jobs")}` },
    ]);
    expect(p.problems).toEqual([]);
    // Files in path order, documents in file order; the empty document between is skipped.
    expect(p.apply.map((a) => `${a.entry.file}:${a.entry.name}`)).toEqual(["apps/more.yml:api", "apps/more.yml:jobs", "apps/web.yaml:web"]);
    const web = p.apply[2]?.object;
    expect(web?.metadata).toEqual({
      name: "web",
      namespace: "team-a",
      labels: { team: "a", "flotilla.dev/source": "team-a.apps" },
      annotations: { "flotilla.dev/source": "team-a/apps", "flotilla.dev/source-commit": COMMIT, "flotilla.dev/source-file": "apps/web.yaml" },
    });
    expect(p.inventory.map((e) => e.name)).toEqual(["api", "jobs", "web"]);
  });

  it("keeps an explicit namespace equal to the source's, and drops status and server-set metadata", () => {
    const text = `${ad("web", { namespace: "team-a" })}status: {phase: Healthy}\n`.replace(
      "  labels: {team: a}",
      "  labels: {team: a}\n  resourceVersion: '12'\n  uid: abc",
    );
    const p = plan([{ path: "web.yaml", text }]);
    expect(p.problems).toEqual([]);
    const object = p.apply[0]?.object as Record<string, unknown>;
    expect(object.status).toBeUndefined();
    expect(Object.keys(object.metadata as object).sort()).toEqual(["annotations", "labels", "name", "namespace"]);
  });

  it("prunes what the previous commit applied and this one no longer has, and nothing else", () => {
    const p = plan([{ path: "web.yaml", text: ad("web") }], { inventory: [entry("web", "web.yaml"), entry("old", "old.yaml")] });
    expect(p.prune).toEqual([entry("old", "old.yaml")]);
    expect(p.inventory).toEqual([entry("web", "web.yaml")]);
  });

  it("keeps an object that moved to another file (not pruned, its new file in the inventory)", () => {
    const p = plan([{ path: "moved.yaml", text: ad("web") }], { inventory: [entry("web", "web.yaml")] });
    expect(p.prune).toEqual([]);
    expect(p.inventory).toEqual([entry("web", "moved.yaml")]);
  });

  it("prunes everything when the commit holds no document", () => {
    const p = plan([], { inventory: [entry("web", "web.yaml")] });
    expect(p.problems).toEqual([]);
    expect(p.prune).toEqual([entry("web", "web.yaml")]);
  });

  it.each([
    ["another namespace", ad("web", { namespace: "team-b" }), "metadata.namespace", /"team-b": a GitSource applies into its own namespace only \(team-a\)/],
    [
      "a ClusterRoleBinding",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: admin}\nroleRef: {kind: ClusterRole, name: cluster-admin}\n",
      "kind",
      /ClusterRoleBinding may not be applied by a GitSource in namespace team-a/,
    ],
    [
      "a ComponentDefinition from a team",
      "apiVersion: flotilla.dev/v1alpha1\nkind: ComponentDefinition\nmetadata: {name: mine}\nspec: {}\n",
      "kind",
      /ComponentDefinitions, TraitDefinitions and Clusters come from a GitSource in flotilla-system/,
    ],
    [
      "a GitSource",
      "apiVersion: flotilla.dev/v1alpha1\nkind: GitSource\nmetadata: {name: other}\nspec: {url: https://example.com/r.git}\n",
      "kind",
      /GitSource may not be applied/,
    ],
    [
      "an AD of another API version",
      ad("web").replace("flotilla.dev/v1alpha1", "flotilla.dev/v2"),
      "apiVersion",
      /flotilla.dev\/v2 ApplicationDeployment may not be applied/,
    ],
  ])("refuses %s with the file, document and field, and applies nothing of the commit", (_what, text, path, message) => {
    const p = plan([
      { path: "ok.yaml", text: ad("web2") },
      { path: "bad.yaml", text: `${ad("fine")}---\n${text}` },
    ]);
    expect(p.apply).toEqual([]);
    expect(p.prune).toEqual([]);
    expect(p.problems).toHaveLength(1);
    const problem = p.problems[0];
    expect(problem).toMatchObject({ reason: "Refused", file: "bad.yaml", index: 1, path });
    expect(problem?.message).toMatch(message);
    expect(formatSourceProblem(problem as never)).toMatch(/^bad\.yaml \(document 2\): /);
    expect(problemsReason(p.problems)).toBe("Refused");
  });

  it("refuses a one-shot annotation (promote, abort, retry), which the source would put back after the controller removes it", () => {
    const p = plan([
      { path: "web.yaml", text: ad("web").replace("  labels: {team: a}", "  labels: {team: a}\n  annotations: {flotilla.dev/promote: 'true'}") },
    ]);
    expect(p.apply).toEqual([]);
    expect(p.problems).toMatchObject([{ reason: "Refused", file: "web.yaml", path: 'metadata.annotations["flotilla.dev/promote"]' }]);
    expect(p.problems[0]?.fix).toContain("kubectl annotate");
  });

  it("lets a source in the controller's namespace carry definitions and Clusters, without a namespace", () => {
    const files = [
      {
        path: "defs.yaml",
        text: "apiVersion: flotilla.dev/v1alpha1\nkind: Cluster\nmetadata: {name: prod-eu, labels: {usage: production}}\nspec: {local: true}\n",
      },
      { path: "apps.yaml", text: ad("web") },
    ];
    const p = plan(files, { source: { namespace: "flotilla-system", name: "platform" } });
    expect(p.problems).toEqual([]);
    expect(p.apply.map((a) => [a.entry.kind, a.entry.namespace])).toEqual([
      ["ApplicationDeployment", "flotilla-system"],
      ["Cluster", undefined],
    ]);
    expect(p.apply[1]?.object.metadata).not.toHaveProperty("namespace");
  });

  it("refuses a namespace on a cluster-scoped kind", () => {
    const text = "apiVersion: flotilla.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c, namespace: flotilla-system}\nspec: {local: true}\n";
    const p = plan([{ path: "c.yaml", text }], { source: { namespace: "flotilla-system", name: "platform" } });
    expect(p.problems).toMatchObject([{ reason: "Refused", file: "c.yaml", path: "metadata.namespace" }]);
  });

  it("names the file, document and field of an invalid document, and keeps the previous inventory", () => {
    const inventory = [entry("web", "web.yaml")];
    const bad = ad("web").replace("  placementStrategies:", "  rollout: {replicas: many}\n  placementStrategies:");
    const p = plan([{ path: "apps/web.yaml", text: `${ad("api")}---\n${bad}` }], { inventory });
    expect(p.apply).toEqual([]);
    expect(p.prune).toEqual([]);
    expect(p.inventory).toEqual(inventory);
    expect(p.problems.length).toBeGreaterThan(0);
    expect(p.problems[0]).toMatchObject({ reason: "InvalidDocument", file: "apps/web.yaml", index: 1, path: "spec.rollout" });
    expect(problemsReason(p.problems)).toBe("InvalidDocument");
  });

  it("names the field of a bad setting of a component", () => {
    const bad = ad("web").replace("    - name: v1", "    - name: V1!");
    const p = plan([{ path: "web.yaml", text: bad }]);
    expect(p.problems[0]).toMatchObject({ file: "web.yaml", index: 0, path: "spec.appRevisions[0].name" });
  });

  it("reports a YAML syntax error with its line, and applies nothing", () => {
    const p = plan([
      { path: "ok.yaml", text: ad("web") },
      { path: "broken.yaml", text: "apiVersion: flotilla.dev/v1alpha1\nkind: ApplicationDeployment\nmetadata:\n  name: [unclosed\n" },
    ]);
    expect(p.apply).toEqual([]);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]).toMatchObject({ reason: "InvalidDocument", file: "broken.yaml", path: "" });
    expect(p.problems[0]?.line).toBeGreaterThanOrEqual(4);
    expect(p.problems[0]?.message).toMatch(/^is not valid YAML: .* \(line \d+\)$/);
  });

  it("refuses two documents with the same kind and name, naming both", () => {
    const p = plan([
      { path: "a.yaml", text: ad("web") },
      { path: "b.yaml", text: ad("web", { image: "nginx:1.28" }) },
    ]);
    expect(p.apply).toEqual([]);
    expect(p.problems).toMatchObject([{ reason: "InvalidDocument", file: "b.yaml", index: 0, path: "metadata.name" }]);
    expect(p.problems[0]?.message).toContain("also defined in a.yaml");
  });

  it.each([
    ["a list", "- a\n- b\n", ""],
    ["a document without kind", "apiVersion: flotilla.dev/v1alpha1\nmetadata: {name: x}\n", "kind"],
    ["labels that are not strings", ad("web").replace("  labels: {team: a}", "  labels: {enabled: true}"), "metadata.labels"],
  ])("refuses %s as an invalid document", (_what, text, path) => {
    const p = plan([{ path: "x.yaml", text }]);
    expect(p.problems).toMatchObject([{ reason: "InvalidDocument", file: "x.yaml", path }]);
  });

  it("gives the same plan for the same files in any order", () => {
    const files = [
      { path: "b.yaml", text: ad("b") },
      { path: "a.yaml", text: ad("a") },
      { path: "c/d.yaml", text: ad("d") },
    ];
    expect(plan(files)).toEqual(plan([...files].reverse()));
  });
});
