// The bundle reader on in-memory folders: what it reads as kustomize does, and every field,
// path or patch it does not apply exactly is an error naming it. (That it matches kubectl
// kustomize on deploy/ itself is test/unit/deploy/kustomize.test.ts.)

import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { type BundleFiles, controllerImage, readBundle, requiredSecretKeys, splitImage, strategicMerge, withControllerImage } from "../../../src/cli/bundle.js";

/** Folders in memory: `{ "deploy/kustomization.yaml": "..." }` under /b. */
function folder(files: Record<string, string>): BundleFiles {
  const map = new Map(Object.entries(files).map(([k, v]) => [`/b/${k}`, v]));
  return {
    readFile: (path) => map.get(path),
    isDirectory: (path) => [...map.keys()].some((k) => k.startsWith(`${path}/`)),
  };
}

const deployment = (image = "registry.example.com/flotilla") => `apiVersion: apps/v1
kind: Deployment
metadata: {name: flotilla-controller, namespace: sys}
spec:
  replicas: 1
  strategy: {type: Recreate}
  template:
    spec:
      containers:
        - name: controller
          image: ${image}
          args: [controller]
          env:
            - {name: A, value: "1"}
            - name: URL
              valueFrom: {secretKeyRef: {name: git, key: url, optional: true}}
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: data}
`;
const claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: sys}\nspec: {accessModes: [ReadWriteOnce]}\n";
const crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: things.example.dev}\n";

/** A base with a CRD folder; deploy/ adds the claim, deploy/remote/ patches the Deployment instead. */
const tree = {
  "crds/kustomization.yaml": "resources: [thing.yaml]\n",
  "crds/thing.yaml": crd,
  "deploy/base/kustomization.yaml": 'bases: [../../crds]\nresources: [app.yaml]\nimages:\n  - {name: registry.example.com/flotilla, newTag: "0.1.0"}\n',
  "deploy/base/app.yaml": deployment(),
  "deploy/claim.yaml": claim,
  "deploy/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbases: [base]\nresources: [claim.yaml]\n",
  "deploy/remote/kustomization.yaml": "bases: [../base]\npatchesStrategicMerge: [app.yaml]\n",
  "deploy/remote/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: flotilla-controller, namespace: sys}
spec:
  replicas: 2
  strategy: {type: RollingUpdate}
  template:
    spec:
      containers:
        - name: controller
          env:
            - name: URL
              valueFrom: {secretKeyRef: {optional: false}}
            - {name: B, value: "2"}
      volumes:
        - name: data
          persistentVolumeClaim: null
          emptyDir: {}
`,
};

const ids = (objects: Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
type PodSpec = { containers: Array<Record<string, unknown>>; volumes: unknown[] };
const podSpec = (objects: Manifest[]): PodSpec =>
  ((objects.find((o) => o.kind === "Deployment") as Manifest).spec as { template: { spec: PodSpec } }).template.spec;

describe("readBundle", () => {
  it("reads bases first, then resources, and sets images by name", () => {
    const objects = readBundle("/b/deploy", folder(tree));
    expect(ids(objects)).toEqual(["CustomResourceDefinition/things.example.dev", "Deployment/flotilla-controller", "PersistentVolumeClaim/data"]);
    expect(controllerImage(objects)).toBe("registry.example.com/flotilla:0.1.0");
  });

  it("applies an overlay's strategic merge patches: maps merge, null removes, lists merge by name", () => {
    const objects = readBundle("/b/deploy/remote", folder(tree));
    expect(ids(objects)).toEqual(["CustomResourceDefinition/things.example.dev", "Deployment/flotilla-controller"]);
    const spec = objects.find((o) => o.kind === "Deployment")?.spec as Record<string, unknown>;
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({ type: "RollingUpdate" });
    expect(podSpec(objects).volumes).toEqual([{ name: "data", emptyDir: {} }]);
    expect(podSpec(objects).containers[0]).toEqual({
      name: "controller",
      image: "registry.example.com/flotilla:0.1.0",
      args: ["controller"],
      env: [
        { name: "A", value: "1" },
        { name: "URL", valueFrom: { secretKeyRef: { name: "git", key: "url", optional: false } } },
        { name: "B", value: "2" },
      ],
    });
    expect(requiredSecretKeys(objects)).toEqual([{ secret: { namespace: "sys", name: "git" }, key: "url" }]);
    expect(requiredSecretKeys(readBundle("/b/deploy", folder(tree)))).toEqual([]);
  });

  it.each([
    [
      "a field it does not read",
      { "deploy/kustomization.yaml": "bases: [base]\nnamespace: other\n" },
      /kustomization\.yaml: namespace: flotilla install does not read this kustomization field/,
    ],
    ["commonLabels", { "deploy/kustomization.yaml": "bases: [base]\ncommonLabels: {a: b}\n" }, /commonLabels: flotilla install does not read/],
    ["a folder under resources", { "deploy/kustomization.yaml": "resources: [base]\n" }, /resources: "base" is a folder; list it under bases/],
    ["a file outside the folder", { "deploy/kustomization.yaml": "resources: [../crds/thing.yaml]\n" }, /is outside \/b\/deploy/],
    ["a missing resource", { "deploy/kustomization.yaml": "resources: [nothing.yaml]\n" }, /resources: "nothing.yaml": no such file/],
    ["a remote base", { "deploy/kustomization.yaml": "bases: [https://github.com/x/y]\n" }, /remote bases are not read/],
    ["an overlay inside its base", { "deploy/remote/kustomization.yaml": "bases: [..]\n" }, /a cycle/],
    ["an object twice", { "deploy/kustomization.yaml": "bases: [base, ../crds]\n" }, /CustomResourceDefinition\/things\.example\.dev is already in the bundle/],
    [
      "a patch without a target",
      { "deploy/remote/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other, namespace: sys}\nspec: {replicas: 3}\n" },
      /no object Deployment\/sys\/other to patch/,
    ],
    [
      "$patch: delete (kustomize v2.0.3 leaves an empty document for it)",
      { "deploy/remote/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flotilla-controller, namespace: sys}\n$patch: delete\n" },
      /\$patch: the directive \$patch is not applied/,
    ],
    [
      "a patch of a list not keyed by name",
      {
        "deploy/remote/app.yaml":
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flotilla-controller, namespace: sys}\nspec: {template: {spec: {tolerations: [{key: a}]}}}\n",
      },
      /spec\.template\.spec\.tolerations: flotilla install merges only lists keyed by name/,
    ],
    [
      "a $ directive",
      {
        "deploy/remote/app.yaml":
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flotilla-controller, namespace: sys}\nspec: {$retainKeys: [replicas]}\n",
      },
      /spec\.\$retainKeys: the directive \$retainKeys is not applied/,
    ],
    [
      "an image field it does not read",
      { "deploy/kustomization.yaml": "bases: [base]\nimages: [{name: a, newImage: b}]\n" },
      /images\[0\]\.newImage: flotilla install reads only/,
    ],
    [
      "newTag and digest together",
      { "deploy/kustomization.yaml": "bases: [base]\nimages: [{name: a, newTag: b, digest: sha256:c}]\n" },
      /set newTag or digest, not both/,
    ],
    [
      "another kustomization file name",
      { "deploy/kustomization.yaml": undefined, "deploy/kustomization.yml": "bases: [base]\n" },
      /name it kustomization\.yaml/,
    ],
    ["a List", { "deploy/claim.yaml": "apiVersion: v1\nkind: List\nmetadata: {name: x}\nitems: []\n" }, /List is not read/],
  ])("refuses %s", (_what, change, message) => {
    const files: Record<string, string> = { ...tree };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete files[k];
      else files[k] = v;
    }
    const dir = Object.keys(change)[0]?.startsWith("deploy/remote/") ? "/b/deploy/remote" : "/b/deploy";
    expect(() => readBundle(dir, folder(files))).toThrow(message);
  });

  it.each([
    ["newName and newTag", "{name: registry.example.com/flotilla, newName: reg.io/me/flotilla, newTag: '2'}", "reg.io/me/flotilla:2"],
    ["a digest", "{name: registry.example.com/flotilla, digest: 'sha256:abc'}", "registry.example.com/flotilla@sha256:abc"],
    ["newName alone keeps the tag", "{name: registry.example.com/flotilla, newName: other}", "other:0.1.0"],
    ["no match", "{name: flotilla, newTag: '9'}", "registry.example.com/flotilla:0.1.0"],
  ])("sets an overlay's image with %s over the base's", (_what, rule, image) => {
    const files = { ...tree, "deploy/kustomization.yaml": `bases: [base]\nimages: [${rule}]\n` };
    expect(controllerImage(readBundle("/b/deploy", folder(files)))).toBe(image);
  });
});

describe("the controller image", () => {
  it("is replaced on a copy by withControllerImage", () => {
    const objects = readBundle("/b/deploy", folder(tree));
    const changed = withControllerImage(objects, "reg.io/flotilla@sha256:1");
    expect(controllerImage(changed)).toBe("reg.io/flotilla@sha256:1");
    expect(controllerImage(objects)).toBe("registry.example.com/flotilla:0.1.0");
  });

  it("cannot be set on a bundle without the controller", () => {
    expect(() => withControllerImage(readBundle("/b/crds", folder(tree)), "x")).toThrow(/no Deployment flotilla-controller/);
  });
});

describe("splitImage", () => {
  it.each([
    ["flotilla", "flotilla", ""],
    ["flotilla:1", "flotilla", ":1"],
    ["reg.io:5000/flotilla", "reg.io:5000/flotilla", ""],
    ["reg.io:5000/team/flotilla:1.2", "reg.io:5000/team/flotilla", ":1.2"],
    ["reg.io/flotilla@sha256:abc", "reg.io/flotilla", "@sha256:abc"],
  ])("%s is %s and %s", (image, name, suffix) => {
    expect(splitImage(image)).toEqual({ name, suffix });
  });
});

describe("strategicMerge", () => {
  it("never writes through __proto__", () => {
    const merged = strategicMerge({}, JSON.parse('{"__proto__": {"polluted": true}}'), "", "p.yaml") as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(merged, "__proto__")).toBe(true);
  });
});
