import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import {
  apiGroupOf,
  clusterDir,
  deploymentDir,
  LayoutError,
  manifestFileName,
  manifestPath,
  parseManifestPath,
} from "../../../src/gitops/layout.js";

function aManifest(apiVersion: string, kind: string, name: string, namespace?: string): Manifest {
  return { apiVersion, kind, metadata: namespace === undefined ? { name } : { name, namespace } };
}

describe("layout", () => {
  it.each([
    ["v1", "core"],
    ["apps/v1", "apps"],
    ["networking.k8s.io/v1", "networking.k8s.io"],
    ["flotilla.dev/v1alpha1", "flotilla.dev"],
  ])("maps apiVersion %s to group %s", (apiVersion, group) => {
    expect(apiGroupOf(apiVersion)).toBe(group);
  });

  it.each([
    [aManifest("apps/v1", "Deployment", "backend-v1", "team-a"), "apps.Deployment.backend-v1.yaml"],
    [aManifest("v1", "Service", "backend", "team-a"), "core.Service.backend.yaml"],
    [aManifest("networking.k8s.io/v1", "Ingress", "web.example"), "networking.k8s.io.Ingress.web.example.yaml"],
    [aManifest("rbac.authorization.k8s.io/v1", "ClusterRole", "system:reader"), "rbac.authorization.k8s.io.ClusterRole.system:reader.yaml"],
  ])("names the file of %j %s", (manifest, fileName) => {
    expect(manifestFileName(manifest)).toBe(fileName);
  });

  it("puts a deployment's objects, cluster-scoped ones included, in one folder per cluster", () => {
    expect(clusterDir("prod-eu")).toBe("clusters/prod-eu");
    expect(deploymentDir("prod-eu", "team-a", "shop")).toBe("clusters/prod-eu/team-a/shop");
    expect(manifestPath("prod-eu", "team-a", "shop", aManifest("apps/v1", "Deployment", "web-v2", "team-a"))).toBe(
      "clusters/prod-eu/team-a/shop/apps.Deployment.web-v2.yaml",
    );
    expect(manifestPath("prod-eu", "team-a", "shop", aManifest("v1", "Namespace", "extra"))).toBe(
      "clusters/prod-eu/team-a/shop/core.Namespace.extra.yaml",
    );
  });

  it.each([
    ["clusters/prod-eu/team-a/shop/apps.Deployment.web-v2.yaml", "apps", "Deployment", "web-v2"],
    ["clusters/c1/ns/d/networking.k8s.io.Ingress.web.example.yaml", "networking.k8s.io", "Ingress", "web.example"],
    ["clusters/c1/ns/d/core.ConfigMap.a.b.c.yaml", "core", "ConfigMap", "a.b.c"],
  ])("parses %s back into its parts", (path, group, kind, name) => {
    const parts = parseManifestPath(path);
    expect(parts).toMatchObject({ group, kind, name });
    expect(manifestPath(parts.cluster, parts.namespace, parts.deployment, aManifest(group === "core" ? "v1" : `${group}/v1`, kind, name))).toBe(path);
  });

  it.each([
    ["a cluster with a slash", () => deploymentDir("a/b", "ns", "d"), "cluster"],
    ["a cluster of '..'", () => clusterDir(".."), "cluster"],
    ["an uppercase namespace", () => deploymentDir("c", "Team", "d"), "namespace"],
    ["a deployment of '..'", () => deploymentDir("c", "ns", ".."), "deployment"],
    ["a name with a slash", () => manifestFileName(aManifest("v1", "ConfigMap", "../../etc/passwd")), "metadata.name"],
    ["a name with '..'", () => manifestFileName(aManifest("v1", "ConfigMap", "a..b")), "metadata.name"],
    ["an empty name", () => manifestFileName(aManifest("v1", "ConfigMap", "")), "metadata.name"],
    ["a lowercase kind", () => manifestFileName(aManifest("v1", "configmap", "x")), "kind"],
    ["an apiVersion with two slashes", () => manifestFileName(aManifest("a/b/v1", "X", "x")), "apiVersion"],
    ["a path outside clusters/", () => parseManifestPath("other/c/ns/d/core.Pod.x.yaml"), "path"],
    ["a path that is too deep", () => parseManifestPath("clusters/c/ns/d/e/core.Pod.x.yaml"), "path"],
    ["a file that is not YAML", () => parseManifestPath("clusters/c/ns/d/README.md"), "file"],
    ["a file without a kind", () => parseManifestPath("clusters/c/ns/d/core.pod.x.yaml"), "file"],
  ])("refuses %s with a LayoutError naming the part", (_label, call, field) => {
    let caught: unknown;
    try {
      call();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LayoutError);
    expect((caught as LayoutError).path).toBe(field);
  });
});
