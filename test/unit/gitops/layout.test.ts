import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import {
  apiGroupOf,
  clusterDir,
  clusterFolders,
  deploymentDir,
  folderFiles,
  LayoutError,
  MAX_FILE_NAME_BYTES,
  manifestFileName,
  manifestFiles,
  manifestPath,
  parseManifestFileName,
  parseManifestPath,
} from "../../../src/gitops/layout.js";

function aManifest(apiVersion: string, kind: string, name: string, namespace?: string): Manifest {
  return { apiVersion, kind, metadata: namespace === undefined ? { name } : { name, namespace } };
}

/** A valid DNS-1123 subdomain of exactly `length` characters (labels of 9), ending with `tail`. */
function longName(length: number, tail = ""): string {
  return `${"abcdefghi."
    .repeat(30)
    .slice(0, length - tail.length)
    .replace(/\.$/, "z")}${tail}`;
}

// A CRD of a long group and kind, and an object name of the 253 characters Kubernetes allows.
const LONG_GROUP = "observability.platform-team.example.com";
const LONG_KIND = "PrometheusRecordingRuleGroupBinding";
const longObject = (name: string): Manifest => aManifest(`${LONG_GROUP}/v1`, LONG_KIND, name, "team-a");

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
    expect(manifestPath("prod-eu", "team-a", "shop", aManifest("v1", "Namespace", "extra"))).toBe("clusters/prod-eu/team-a/shop/core.Namespace.extra.yaml");
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

  describe("names too long for one file", () => {
    const name = longName(253, "-a");
    const other = longName(253, "-b");

    it("keeps every segment of the path within the bound for a 253-character name of a long CRD", () => {
      expect(name).toHaveLength(253);
      const path = manifestPath(longName(253), "team-a", longName(61), longObject(name));
      for (const segment of path.split("/")) expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(253);
      const file = path.split("/").at(-1) as string;
      expect(Buffer.byteLength(file)).toBe(MAX_FILE_NAME_BYTES);
    });

    it("keeps a readable prefix and appends 32 hex digits of the sha256 of the full name", () => {
      const stem = `${LONG_GROUP}.${LONG_KIND}.${name}`;
      const hash = createHash("sha256").update(stem).digest("hex").slice(0, 32);
      expect(manifestFileName(longObject(name))).toBe(`${stem.slice(0, 162)}~${hash}.yaml`);
    });

    it("gives two names that differ only in their last character different files", () => {
      const a = manifestFileName(longObject(name));
      const b = manifestFileName(longObject(other));
      expect(a).not.toBe(b);
      expect(a.slice(0, 162)).toBe(b.slice(0, 162));
      expect(Buffer.byteLength(b)).toBe(MAX_FILE_NAME_BYTES);
    });

    it("gives the same object the same file every time", () => {
      expect(manifestFileName(longObject(name))).toBe(manifestFileName(structuredClone(longObject(name))));
    });

    it.each([
      [MAX_FILE_NAME_BYTES, false],
      [MAX_FILE_NAME_BYTES + 1, true],
    ])("shortens a full file name of %i bytes: %s", (bytes, shortened) => {
      const prefix = "core.ConfigMap.";
      const name = longName(bytes - prefix.length - ".yaml".length);
      const file = manifestFileName(aManifest("v1", "ConfigMap", name));
      expect(file === `${prefix}${name}.yaml`).toBe(!shortened);
      expect(Buffer.byteLength(file)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
    });

    it("parses a shortened file name back as shortened, with no identity to trust", () => {
      const path = manifestPath("prod-eu", "team-a", "shop", longObject(name));
      const parts = parseManifestPath(path);
      expect(parts).toMatchObject({ cluster: "prod-eu", namespace: "team-a", deployment: "shop", shortened: true });
      expect(parts.shortened && parts.hash).toMatch(/^[0-9a-f]{32}$/);
      expect(parts.shortened && `${parts.prefix}~${parts.hash}.yaml`).toBe(parts.fileName);
    });

    it("still reads a full file name longer than the bound, as repositories written before hold them", () => {
      const legacy = `${LONG_GROUP}.${LONG_KIND}.${name}.yaml`;
      expect(parseManifestFileName(legacy)).toEqual({ shortened: false, group: LONG_GROUP, kind: LONG_KIND, name });
    });

    it.each([
      ["an uppercase hash", (f: string) => f.replace(/~([0-9a-f]+)/, (_m, h: string) => `~${h.toUpperCase()}`)],
      ["a hash one digit short", (f: string) => f.replace(/[0-9a-f]\.yaml$/, ".yaml")],
      ["a prefix one character short", (f: string) => f.slice(1)],
      ["a slash in the prefix", (f: string) => `a/${f.slice(2)}`],
    ])("refuses a shortened name with %s", (_label, mangle) => {
      const file = mangle(manifestFileName(longObject(name)));
      expect(() => parseManifestFileName(file)).toThrow(LayoutError);
    });
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

  it("keys each cluster's folder by the file names manifestFiles gives", () => {
    const eu = [aManifest("apps/v1", "Deployment", "web", "team-a"), aManifest("v1", "Service", "web", "team-a")];
    const folders = clusterFolders([
      { cluster: "prod-eu", manifests: eu },
      { cluster: "prod-us", manifests: [] },
    ]);
    expect(Object.keys(folders)).toEqual(["prod-eu", "prod-us"]);
    expect(folders["prod-eu"]).toEqual(manifestFiles(eu));
    expect(Object.keys(folders["prod-eu"] ?? {})).toEqual(["apps.Deployment.web.yaml", "core.Service.web.yaml"]);
    expect(folders["prod-us"]).toEqual({});
  });

  it("reads a folder back from Git keyed by file name, as a fresh render keys it", () => {
    const web = aManifest("apps/v1", "Deployment", "web", "team-a");
    const rendered = manifestFiles([web]);
    const read = new Map([[manifestPath("prod-eu", "team-a", "shop", web), rendered["apps.Deployment.web.yaml"] as string]]);
    expect(folderFiles(read)).toEqual(rendered);
  });
});
