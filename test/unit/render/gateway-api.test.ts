// The gateway trait's `class: gateway-api`: a Gateway API HTTPRoute, which the local fleet
// (Kubernetes 1.20) cannot serve, so it is checked here instead of by a dry run: the example in
// docs/examples/gateway-api.yaml against its golden file, and every HTTPRoute rendered against a
// JSON Schema of HTTPRoute v1 written from the Gateway API reference (test/fixtures/gateway-api/).
// UPDATE_GOLDEN=1 rewrites the golden file; review the diff.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/api/errors.js";
import { toYaml } from "../../../src/api/serialize.js";
import type { JsonObject, Manifest } from "../../../src/api/types.js";
import { createAjv, problemsFromAjv } from "../../../src/api/validate.js";
import { getPath } from "../../../src/render/merge.js";
import { readInputs } from "../../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry } from "../../../src/definitions/registry.js";
import { type RenderTarget, renderDeployment } from "../../../src/render/render.js";
import { aComponent, aDeployment, aRevision } from "../builders.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "gateway-api");
const EXAMPLE = join(ROOT, "docs", "examples", "gateway-api.yaml");
const GOLDEN = join(FIXTURES, "rendered.yaml");
const builtins = (async () => buildRegistry(await new FileDefinitionSource([join(ROOT, "definitions")]).loadDocuments()))();
const target: RenderTarget = { cluster: { name: "local", labels: {}, version: "v1.29.0" }, wave: "wave-1", revisions: [{ name: "v1", replicas: 2 }] };

const validateHttpRoute = createAjv().compile(JSON.parse(readFileSync(join(FIXTURES, "httproute-v1.schema.json"), "utf8")));

function httpRouteProblems(route: unknown): string[] {
  return validateHttpRoute(route) ? [] : problemsFromAjv(validateHttpRoute.errors, route).map((p) => `${p.path}: ${p.message}`);
}

async function renderGateway(properties: JsonObject, settings: JsonObject = { image: "nginx:1.27", ports: [{ port: 80 }, { port: 8080, name: "api" }] }) {
  const component = aComponent("storefront", "webservice").withSettings(settings).withTrait("gateway", properties);
  const deployment = aDeployment("shop").inNamespace("shop").withRevision(aRevision("v1").withComponent(component)).build();
  const [cluster] = await renderDeployment({ deployment, registry: await builtins, targets: [target] });
  return cluster?.manifests ?? [];
}

function routeOf(manifests: Manifest[]): Manifest {
  const route = manifests.find((m) => m.kind === "HTTPRoute");
  if (!route) throw new Error(`no HTTPRoute among ${manifests.map((m) => m.kind).join(", ")}`);
  return route;
}

async function refusal(properties: JsonObject): Promise<string> {
  try {
    await renderGateway(properties);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    throw e;
  }
  throw new Error("the render succeeded, but a refusal was expected");
}

describe("the gateway trait with class gateway-api", () => {
  it("renders the docs example exactly as its golden file, with an HTTPRoute that the Gateway API schema accepts", async () => {
    const inputs = await readInputs([EXAMPLE]);
    expect(inputs.problems).toEqual([]);
    const [doc] = inputs.deployments;
    if (!doc) throw new Error("docs/examples/gateway-api.yaml holds no ApplicationDeployment");
    const [cluster] = await renderDeployment({ deployment: doc.doc, registry: await builtins, targets: [target] });
    const manifests = cluster?.manifests ?? [];
    const text = `# Golden file: docs/examples/gateway-api.yaml rendered for a 1.29 cluster (see test/unit/render/gateway-api.test.ts).\n${manifests.map((m) => `---\n${toYaml(m)}`).join("")}`;
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, "utf8"));
    expect(manifests.map((m) => m.kind)).toEqual(["Deployment", "Service", "HTTPRoute"]);
    expect(httpRouteProblems(routeOf(manifests))).toEqual([]);
  });

  it("attaches to the parentRefs, takes the domain as hostname and routes each path to the Service's port, PathPrefix by default", async () => {
    const route = routeOf(
      await renderGateway({ class: "gateway-api", domain: "shop.example.com", http: { "/api": 8080, "/": 80 }, parentRefs: [{ name: "public" }] }),
    );
    expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
    expect(route.metadata.name).toBe("storefront");
    expect(route.metadata.namespace).toBe("shop");
    expect(route.spec).toEqual({
      parentRefs: [{ name: "public" }],
      hostnames: ["shop.example.com"],
      rules: [
        { matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "storefront", port: 80 }] },
        { matches: [{ path: { type: "PathPrefix", value: "/api" } }], backendRefs: [{ name: "storefront", port: 8080 }] },
      ],
    });
    expect(httpRouteProblems(route)).toEqual([]);
  });

  it("matches Exact paths with pathType Exact, every host without a domain, and another Service when named", async () => {
    const route = routeOf(
      await renderGateway({
        class: "gateway-api",
        pathType: "Exact",
        service: "edge",
        http: { "/healthz": 8080 },
        parentRefs: [{ name: "internal", sectionName: "http" }],
      }),
    );
    expect(route.spec).toEqual({
      parentRefs: [{ name: "internal", sectionName: "http" }],
      rules: [{ matches: [{ path: { type: "Exact", value: "/healthz" } }], backendRefs: [{ name: "edge", port: 8080 }] }],
    });
    expect(httpRouteProblems(route)).toEqual([]);
  });

  it("renders no Ingress, and an Ingress stays the default", async () => {
    expect((await renderGateway({ class: "gateway-api", http: { "/": 80 }, parentRefs: [{ name: "public" }] })).map((m) => m.kind)).not.toContain("Ingress");
    const manifests = await renderGateway({ class: "nginx", http: { "/": 80 } });
    expect(manifests.map((m) => m.kind)).toEqual(["Deployment", "Service", "Ingress"]);
    expect(getPath(manifests[2], "spec.ingressClassName")).toBe("nginx");
  });

  it.each([
    [{ class: "gateway-api", http: { "/": 80 } }, "gateway: class gateway-api needs parentRefs"],
    [
      { class: "gateway-api", http: { "/": 80 }, parentRefs: [{ name: "public" }], domain: "a.example.com", secretName: "tls" },
      "secretName does not apply to class gateway-api",
    ],
    [
      { class: "gateway-api", http: { "/": 80 }, parentRefs: [{ name: "public" }], pathType: "ImplementationSpecific" },
      "pathType ImplementationSpecific has no Gateway API equivalent",
    ],
    [{ http: { "/": 80 }, parentRefs: [{ name: "public" }] }, "parentRefs only apply to class gateway-api"],
    [{ class: "gateway-api", http: { "/": 80 }, parentRefs: [{ name: "public", namespace: "Infra" }] }, "traits[0].properties.parentRefs[0].namespace"],
    [{ class: "gateway-api", http: { "/": 80 }, parentRefs: [] }, "traits[0].properties.parentRefs: must have at least 1 item(s)"],
    [
      { class: "gateway-api", http: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`/p${i}`, 80])), parentRefs: [{ name: "public" }] },
      "an HTTPRoute holds at most 16 rules, one per path of http (got 17)",
    ],
  ])("refuses %j", async (properties, message) => {
    expect(await refusal(properties as JsonObject)).toContain(message);
  });
});

describe("the HTTPRoute schema of the tests", () => {
  const valid = {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "r" },
    spec: { rules: [{ backendRefs: [{ name: "s", port: 80 }] }] },
  };

  it.each([
    ["a Service backend without a port", { rules: [{ backendRefs: [{ name: "s" }] }] }, "spec.rules[0].backendRefs[0]"],
    ["a prefix path with //", { rules: [{ matches: [{ path: { type: "PathPrefix", value: "/a//b" } }] }] }, "spec.rules[0].matches[0].path.value"],
    ["a path not starting with /", { rules: [{ matches: [{ path: { type: "Exact", value: "a" } }] }] }, "spec.rules[0].matches[0].path.value"],
    ["a wildcard that is not the first label", { hostnames: ["shop.*.example.com"] }, "spec.hostnames[0]"],
    ["a parentRef without a name", { parentRefs: [{ namespace: "infra" }] }, "spec.parentRefs[0].name"],
    ["an unknown field", { rules: [{ backend: {} }] }, "spec.rules[0].backend"],
  ])("refuses %s (the check itself works)", (_what, spec, path) => {
    const problems = httpRouteProblems({ ...valid, spec });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toContain(path);
  });

  it("accepts a minimal valid HTTPRoute", () => {
    expect(httpRouteProblems(valid)).toEqual([]);
  });
});
