import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FlotillaError } from "../../../src/api/errors.js";
import { ADDED, checkedKubeVersion, formatKubeSchemaProblem, kubeMinor, kubeVersions, REMOVED, validateManifests } from "../../../src/render/kube-schema.js";

const DATA = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "kube-schemas", "kubernetes-api.json"), "utf8")) as {
  versions: Record<string, unknown>;
  kinds: Record<string, Record<string, string>>;
};
const NEWEST = kubeVersions().newest;

function deployment(spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", labels: { "app.kubernetes.io/name": "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }], ...container }] },
      },
      ...spec,
    },
  };
}

const object = (apiVersion: string, kind: string, name = "x"): Record<string, unknown> => ({ apiVersion, kind, metadata: { name, namespace: "shop" } });

describe("validateManifests", () => {
  it.each(kubeVersions().all)("finds nothing wrong with a plain Deployment, Service and ConfigMap on Kubernetes %s", (version) => {
    const service = { ...object("v1", "Service", "web"), spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http" }] } };
    const configMap = { ...object("v1", "ConfigMap", "web"), data: { "app.conf": "x=1" } };
    expect(validateManifests([deployment(), service, configMap], version)).toEqual({ problems: [], notes: [] });
  });

  it("names the object, the path and the version of an unknown field, and suggests the field meant", () => {
    const { problems } = validateManifests([deployment({}, { imagePullPolicyy: "Always" })], "1.25");
    expect(problems).toEqual([
      {
        object: "Deployment/shop/web",
        apiVersion: "apps/v1",
        kind: "Deployment",
        path: "spec.template.spec.containers[0].imagePullPolicyy",
        version: "1.25",
        message: 'unknown field "imagePullPolicyy" (Container has no such field)',
        fix: 'Did you mean "imagePullPolicy"?',
      },
    ]);
    expect(formatKubeSchemaProblem(problems[0]!)).toBe(
      'Deployment/shop/web: spec.template.spec.containers[0].imagePullPolicyy: unknown field "imagePullPolicyy" (Container has no such field) for Kubernetes 1.25. Did you mean "imagePullPolicy"?',
    );
  });

  it("lists the fields there are when no field name is close", () => {
    const { problems } = validateManifests([{ ...object("v1", "ConfigMap"), stuff: { a: 1 } }], "1.20");
    expect(problems.map((p) => [p.path, p.fix])).toEqual([["stuff", "Remove it; ConfigMap has: apiVersion, binaryData, data, immutable, kind, metadata."]]);
  });

  it("knows fields by version: a field added later is unknown to an older Kubernetes", () => {
    // Pod-level resources (spec.resources of a pod) came with Kubernetes 1.32.
    const pod = { ...object("v1", "Pod"), spec: { containers: [{ name: "a", image: "a" }], resources: { limits: { cpu: "1" } } } };
    expect(validateManifests([pod], "1.32").problems).toEqual([]);
    expect(validateManifests([pod], "1.30").problems.map((p) => p.path)).toEqual(["spec.resources"]);
  });

  it.each([
    ["spec.replicas", deployment({ replicas: "3" }), 'must be an integer (got "3")', "Write the value without quotes."],
    [
      "spec.template.spec.containers[0].ports[0].containerPort",
      deployment({}, { ports: [{ containerPort: 80.5 }] }),
      "must be an integer (got 80.5)",
      "Give an integer.",
    ],
    ["spec.template.spec.containers[0].image", deployment({}, { image: 42 }), "must be a string (got 42)", 'Quote the value in YAML ("42").'],
    ["spec.template.spec.containers[0].args", deployment({}, { args: "--verbose" }), 'must be a list (got "--verbose")', "Give a list."],
    ["spec.paused", deployment({ paused: "yes" }), 'must be true or false (got "yes")', "Write the value without quotes."],
    [
      "spec.template.spec.containers[0].env[0].value",
      deployment({}, { env: [{ name: "PORT", value: 8080 }] }),
      "must be a string (got 8080)",
      'Quote the value in YAML ("8080").',
    ],
    [
      "spec.selector.matchLabels.app",
      deployment({ selector: { matchLabels: { app: true } } }),
      "must be a string (got true)",
      'Quote the value in YAML ("true").',
    ],
    [
      "spec.strategy.rollingUpdate.maxSurge",
      deployment({ strategy: { rollingUpdate: { maxSurge: 0.5 } } }),
      "must be an integer or a string",
      "Give an integer or a string",
    ],
    ["spec.template.spec.containers[0].resources.limits.cpu", deployment({}, { resources: { limits: { cpu: [1] } } }), "must be a quantity", "Give a quantity"],
    ["spec.template", deployment({ template: "web" }), 'must be an object (PodTemplateSpec) (got "web")', "Give an object (PodTemplateSpec)."],
  ])("reports a wrong type at %s", (path, manifest, message, fix) => {
    const { problems } = validateManifests([manifest], "1.25");
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]?.message).toContain(message);
    expect(problems[0]?.fix).toContain(fix);
  });

  it("takes what the API server takes: numbers as quantities, integers or strings as int-or-string, null as unset", () => {
    const manifest = deployment(
      { strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } }, revisionHistoryLimit: null },
      { resources: { limits: { cpu: 1, memory: "1Gi" }, requests: { cpu: 0.5 } }, livenessProbe: { httpGet: { port: "http", path: "/" } } },
    );
    expect(validateManifests([manifest], "1.20").problems).toEqual([]);
  });

  it.each([
    ["batch/v1beta1", "CronJob", "1.25", "1.24", "batch/v1"],
    ["policy/v1beta1", "PodDisruptionBudget", "1.25", "1.24", "policy/v1"],
    ["autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26", "1.25", "autoscaling/v2"],
    ["networking.k8s.io/v1beta1", "Ingress", "1.22", "1.21", "networking.k8s.io/v1"],
    ["extensions/v1beta1", "Ingress", "1.22", "1.21", "networking.k8s.io/v1"],
    ["flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", "1.31", "flowcontrol.apiserver.k8s.io/v1"],
  ])("refuses %s %s from Kubernetes %s on, naming the removal and the apiVersion to use (still served by %s)", (apiVersion, kind, removedIn, before, use) => {
    const { problems } = validateManifests([object(apiVersion, kind)], removedIn);
    expect(problems).toEqual([
      {
        object: `${kind}/shop/x`,
        apiVersion,
        kind,
        path: "apiVersion",
        version: removedIn,
        message: `${apiVersion} ${kind} is not served by Kubernetes ${removedIn} (removed in ${removedIn})`,
        fix: `Use apiVersion ${use}.`,
      },
    ]);
    expect(validateManifests([object(apiVersion, kind)], NEWEST).problems[0]?.message).toContain(`(removed in ${removedIn})`);
    expect(validateManifests([object(apiVersion, kind)], before).problems).toEqual([]);
  });

  it("says when a removed kind has no replacement", () => {
    const { problems } = validateManifests([object("policy/v1beta1", "PodSecurityPolicy")], "1.25");
    expect(problems[0]?.message).toBe("policy/v1beta1 PodSecurityPolicy is not served by Kubernetes 1.25 (removed in 1.25)");
    expect(problems[0]?.fix).toBe("Kubernetes 1.25 serves no apiVersion of PodSecurityPolicy: remove the object.");
  });

  it.each([
    ["policy/v1", "PodDisruptionBudget", "1.20", "1.21", "policy/v1beta1"],
    ["batch/v1", "CronJob", "1.20", "1.21", "batch/v1beta1"],
    ["autoscaling/v2", "HorizontalPodAutoscaler", "1.22", "1.23", "autoscaling/v2beta2"],
  ])(
    "refuses %s %s on Kubernetes %s, which does not serve it yet (added in %s), and shows how to choose by version",
    (apiVersion, kind, version, added, older) => {
      const { problems } = validateManifests([object(apiVersion, kind)], version);
      expect(problems.map((p) => p.message)).toEqual([`${apiVersion} ${kind} is not served by Kubernetes ${version} (added in ${added})`]);
      expect(problems[0]?.fix).toBe(
        `Use apiVersion ${older} on this version, or choose it by the cluster's version: $versionAtLeast(context.cluster.version, "${added}") ? "${apiVersion}" : "${older}".`,
      );
      expect(validateManifests([object(apiVersion, kind)], added).problems).toEqual([]);
    },
  );

  it("names the kinds an apiVersion serves when the kind is misspelt, and the versions of a group when the version is unknown", () => {
    const [kindTypo, versionTypo] = validateManifests([object("apps/v1", "Deploymnet"), object("apps/v2", "StatefulSet")], "1.25").problems;
    expect(kindTypo?.message).toBe("Kubernetes 1.25 has no kind Deploymnet in apps/v1");
    expect(kindTypo?.fix).toBe("apps/v1 serves: ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet.");
    expect(versionTypo?.message).toBe("apps/v2 StatefulSet is not served by Kubernetes 1.25");
    expect(versionTypo?.fix).toBe("Use apiVersion apps/v1.");
  });

  it("skips kinds that are not built into Kubernetes (CRDs) with a note, and still checks the rest", () => {
    const route = object("gateway.networking.k8s.io/v1", "HTTPRoute", "web");
    const monitor = { ...object("monitoring.coreos.com/v1", "ServiceMonitor", "web"), spec: { anything: [1, "two"] } };
    const result = validateManifests([route, monitor, deployment({ replicas: "2" })], "1.20");
    expect(result.problems.map((p) => `${p.object} ${p.path}`)).toEqual(["Deployment/shop/web spec.replicas"]);
    expect(result.notes).toEqual([
      "HTTPRoute/shop/web (gateway.networking.k8s.io/v1) not checked: gateway.networking.k8s.io is not an API group built into Kubernetes (a CRD's schema is the cluster's)",
      "ServiceMonitor/shop/web (monitoring.coreos.com/v1) not checked: monitoring.coreos.com is not an API group built into Kubernetes (a CRD's schema is the cluster's)",
    ]);
  });

  it("builds a minor the data source has no release for from its neighbours and the tables", () => {
    expect(kubeVersions().interpolated).toEqual(["1.23", "1.26", "1.31", "1.35"]);
    // 1.26 still served storage.k8s.io/v1beta1 CSIStorageCapacity (removed in 1.27), no longer autoscaling/v2beta2 (removed in 1.26).
    const capacity = { ...object("storage.k8s.io/v1beta1", "CSIStorageCapacity"), storageClassName: "fast", capacity: "10Gi" };
    expect(validateManifests([capacity], "1.26").problems).toEqual([]);
    expect(validateManifests([capacity], "1.27").problems.map((p) => p.message)).toEqual([
      "storage.k8s.io/v1beta1 CSIStorageCapacity is not served by Kubernetes 1.27 (removed in 1.27)",
    ]);
    expect(validateManifests([object("autoscaling/v2beta2", "HorizontalPodAutoscaler")], "1.26").problems).toHaveLength(1);
    // 1.23 served autoscaling/v2 (added in 1.23), not yet storage.k8s.io/v1 CSIStorageCapacity (1.24).
    expect(validateManifests([object("autoscaling/v2", "HorizontalPodAutoscaler")], "1.23").problems).toEqual([]);
    expect(validateManifests([object("storage.k8s.io/v1", "CSIStorageCapacity")], "1.23").problems.map((p) => p.message)).toEqual([
      "storage.k8s.io/v1 CSIStorageCapacity is not served by Kubernetes 1.23 (added in 1.24)",
    ]);
  });

  it("refuses a version outside the data with the range it covers", () => {
    expect(() => validateManifests([deployment()], "1.19")).toThrow(FlotillaError);
    expect(() => validateManifests([deployment()], "1.19")).toThrow(`Kubernetes 1.19 cannot be checked: the schemas cover 1.20 to ${NEWEST}`);
  });
});

describe("Kubernetes versions", () => {
  it("covers every minor from 1.20 to the newest the data knows", () => {
    const { oldest, newest, all } = kubeVersions();
    expect(oldest).toBe("1.20");
    expect(Number(newest.split(".")[1])).toBeGreaterThanOrEqual(36);
    expect(all).toHaveLength(Number(newest.split(".")[1]) - 19);
  });

  it.each([
    ["1.25", "1.25"],
    ["v1.25", "1.25"],
    ["1.25.3", "1.25"],
    ["v1.20.2", "1.20"],
    ["v1.27.3-gke.100", "1.27"],
    ["v1.28.2+k3s1", "1.28"],
    ["1.x", undefined],
    ["", undefined],
  ])("reads %j as minor %s", (text, minor) => {
    expect(kubeMinor(text)).toBe(minor);
  });

  it.each([
    ["1.19", `--kube-version: Kubernetes 1.19 cannot be checked: the schemas cover 1.20 to ${NEWEST}. Give a version in that range.`],
    ["1.99", `--kube-version: Kubernetes 1.99 cannot be checked: the schemas cover 1.20 to ${NEWEST}. Give a version in that range.`],
    ["latest", `--kube-version: "latest" is not a Kubernetes version. Give MAJOR.MINOR, e.g. ${NEWEST}.`],
  ])("refuses --kube-version %s with the range it covers", (text, message) => {
    expect(() => checkedKubeVersion(text)).toThrow(message);
  });

  it("agrees with the data on every removal and addition it can see", () => {
    const known = Object.keys(DATA.versions).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
    const minor = (v: string): number => Number(v.split(".")[1]);
    for (const [gvk, at] of Object.entries(REMOVED)) {
      const before = [...known].reverse().find((k) => minor(k) < minor(at));
      expect(before && DATA.kinds[before]?.[gvk], `${gvk}: listed by ${before}, the last release before its removal in ${at}`).toBeTruthy();
    }
    for (const [gvk, at] of Object.entries(ADDED)) {
      const before = [...known].reverse().find((k) => minor(k) < minor(at));
      const from = known.find((k) => minor(k) >= minor(at));
      expect(from && DATA.kinds[from]?.[gvk], `${gvk}: listed by ${from}, the first release from ${at}`).toBeTruthy();
      expect(before && DATA.kinds[before]?.[gvk], `${gvk}: not listed by ${before}, before ${at}`).toBeFalsy();
    }
  });
});
