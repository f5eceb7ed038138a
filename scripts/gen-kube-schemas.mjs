#!/usr/bin/env node
// Generates kube-schemas/kubernetes-api.json: for each Kubernetes minor version, which
// apiVersion/kind pairs the API server serves and the fields (with their types) of every object
// type, as src/render/kube-schema.ts reads them to check rendered manifests (`--kube-version`).
//
// Source: the releases of @kubernetes/client-node, each generated from one Kubernetes release's
// OpenAPI document. A release's model classes carry an attributeTypeMap (field name, type, format)
// and its API classes give, per group/version, the body type of every `create` call, which is the
// object type of that group/version/kind. The npm registry serves no release generated from
// Kubernetes 1.23, 1.26, 1.31 or 1.35: kube-schema.ts builds those minors from their neighbours
// (see there). Run after adding a release to RELEASES: `node scripts/gen-kube-schemas.mjs`
// (needs the npm registry; packs each release into a temporary folder, installs nothing).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Kubernetes minor -> the @kubernetes/client-node release generated from it (its OpenAPI document's version noted). */
const RELEASES = {
  "1.20": "0.14.3", // v1.20.2
  1.21: "0.15.1", // v1.21.1
  1.22: "0.16.3", // v1.22.2
  1.24: "0.17.1", // release-1.24
  1.25: "0.18.1", // release-1.25
  1.27: "0.19.0", // release-1.27
  1.28: "0.20.0", // release-1.28
  1.29: "0.21.0", // release-1.29
  "1.30": "0.22.3", // release-1.30
  1.32: "1.1.2", // v1.32.0
  1.33: "1.3.0", // v1.33.0
  1.34: "1.4.0", // v1.34.0
  1.36: "2.0.1", // release-1.36
};

// Fields whose OpenAPI type is a resource.Quantity: the OpenAPI document (and so client-node) says
// "string", but the API server also accepts a JSON number there (`cpu: 1`). Keyed by the type name
// without its group/version prefix.
const QUANTITY_FIELDS = new Set([
  "ResourceRequirements.limits",
  "ResourceRequirements.requests",
  "VolumeResourceRequirements.limits",
  "VolumeResourceRequirements.requests",
  "EmptyDirVolumeSource.sizeLimit",
  "PodSpec.overhead",
  "Overhead.podFixed",
  "LimitRangeItem.default",
  "LimitRangeItem.defaultRequest",
  "LimitRangeItem.max",
  "LimitRangeItem.min",
  "LimitRangeItem.maxLimitRequestRatio",
  "ResourceQuotaSpec.hard",
  "ResourceQuotaStatus.hard",
  "ResourceQuotaStatus.used",
  "PersistentVolumeSpec.capacity",
  "PersistentVolumeClaimStatus.capacity",
  "PersistentVolumeClaimStatus.allocatedResources",
  "NodeStatus.capacity",
  "NodeStatus.allocatable",
  "MetricTarget.value",
  "MetricTarget.averageValue",
  "MetricValueStatus.value",
  "MetricValueStatus.averageValue",
  "ObjectMetricSource.targetValue",
  "ObjectMetricSource.averageValue",
  "PodsMetricSource.targetAverageValue",
  "ResourceMetricSource.targetAverageValue",
  "ContainerResourceMetricSource.targetAverageValue",
  "ExternalMetricSource.targetValue",
  "ExternalMetricSource.targetAverageValue",
  "CSIStorageCapacity.capacity",
  "CSIStorageCapacity.maximumVolumeSize",
]);

const PREFIX = /^(?:[A-Z][a-z]+)*V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])/;
const baseName = (cls) => cls.replace(PREFIX, "");

function pack(version, dir) {
  const file = execFileSync("npm", ["pack", `@kubernetes/client-node@${version}`, "--silent", "--pack-destination", dir], { encoding: "utf8" }).trim();
  const out = join(dir, version);
  mkdirSync(out);
  execFileSync("tar", ["xzf", join(dir, file), "-C", out]);
  return join(out, "package", "dist", "gen");
}

/** className -> [{name, type, format}] from every model file of one release. */
function readModels(gen) {
  const dir = readdirSync(gen).includes("models") ? join(gen, "models") : join(gen, "model");
  const models = {};
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".js")) continue;
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/(\w+)\.attributeTypeMap = (\[[\s\S]*?\n\]);/g)) {
      models[m[1]] = JSON.parse(m[2]).map((a) => ({ name: a.baseName, type: a.type, format: a.format ?? "" }));
    }
  }
  return models;
}

/** "group/version/Kind" -> className, from the `create` calls of every API class of one release. */
function readKinds(gen, models) {
  const dir = readdirSync(gen).includes("apis") ? join(gen, "apis") : join(gen, "api");
  const kinds = {};
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".d.ts")) continue;
    const js = readFileSync(join(dir, file.replace(/\.d\.ts$/, ".js")), "utf8");
    const dts = readFileSync(join(dir, file), "utf8");
    for (const m of dts.matchAll(/\b(create\w+)\((?:[^)]*?)\bbody: (\w+)/g)) {
      const [, method, cls] = m;
      if (!models[cls]) continue;
      const at = js.indexOf(`${method}(`);
      if (at < 0) continue;
      const path = /localVarPath = [^']*'([^']+)'/.exec(js.slice(at))?.[1];
      if (!path || path.includes("{name}")) continue;
      const gv = /^\/api\/(v1)\//.exec(path)?.[1] ?? /^\/apis\/([^/]+\/[^/]+)\//.exec(path)?.[1];
      if (!gv) continue;
      kinds[`${gv}/${baseName(cls)}`] = cls;
    }
  }
  return kinds;
}

const dir = mkdtempSync(join(tmpdir(), "kube-schemas-"));
try {
  const releases = {};
  for (const [minor, version] of Object.entries(RELEASES)) {
    const gen = pack(version, dir);
    const models = readModels(gen);
    releases[minor] = { version, models, kinds: readKinds(gen, models) };
    console.error(`${minor}: @kubernetes/client-node@${version}: ${Object.keys(models).length} types, ${Object.keys(releases[minor].kinds).length} kinds`);
  }
  // The oldest releases give no `format`: an int32/int64 field is a plain "number" and an
  // IntOrString field an "object". Learn both from any release that names them.
  const integers = new Set();
  // The Ingress backend's port before networking.k8s.io/v1 (no release with formats has it).
  const intOrString = new Set(["IngressBackend.servicePort"]);
  for (const { models } of Object.values(releases)) {
    for (const [cls, attrs] of Object.entries(models)) {
      for (const a of attrs) {
        if (a.format === "int32" || a.format === "int64") integers.add(`${baseName(cls)}.${a.name}`);
        if (a.type === "IntOrString") intOrString.add(`${baseName(cls)}.${a.name}`);
      }
    }
  }
  const typeOf = (models, cls, a, t = a.type) => {
    const key = `${baseName(cls)}.${a.name}`;
    const array = /^Array<(.+)>$/.exec(t);
    if (array) return ["array", typeOf(models, cls, a, array[1])];
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
    if (map) return ["map", typeOf(models, cls, a, map[1])];
    if (t === "string" && QUANTITY_FIELDS.has(key)) return "quantity";
    if (t === "string") return a.format === "date-time" ? "date" : "string";
    if (t === "Date") return "date";
    if (t === "boolean") return "boolean";
    if (t === "number") return a.format === "int32" || a.format === "int64" || (!a.format && integers.has(key)) ? "integer" : "number";
    if (t === "IntOrString" || (t === "object" && intOrString.has(key))) return "intstr";
    if (a.format === "date-time-micro") return "date";
    if (models[t]) return t;
    return "any";
  };
  const shapes = [];
  const shapeIndex = new Map();
  const out = {
    comment:
      "Generated by scripts/gen-kube-schemas.mjs from the @kubernetes/client-node releases named in `versions`; do not edit. " +
      "kinds: apiVersion/kind -> type; types: type -> index into shapes; a shape is [field, type] pairs.",
    versions: {},
    kinds: {},
    types: {},
    shapes,
  };
  for (const [minor, { version, models, kinds }] of Object.entries(releases)) {
    out.versions[minor] = { package: `@kubernetes/client-node@${version}` };
    out.kinds[minor] = Object.fromEntries(Object.entries(kinds).sort(([a], [b]) => a.localeCompare(b)));
    const types = {};
    for (const cls of Object.keys(models).sort()) {
      const shape = models[cls].map((a) => [a.name, typeOf(models, cls, a)]);
      const key = JSON.stringify(shape);
      let index = shapeIndex.get(key);
      if (index === undefined) {
        index = shapes.length;
        shapes.push(shape);
        shapeIndex.set(key, index);
      }
      types[cls] = index;
    }
    out.types[minor] = types;
  }
  const target = new URL("../kube-schemas/kubernetes-api.json", import.meta.url);
  mkdirSync(new URL(".", target), { recursive: true });
  writeFileSync(target, JSON.stringify(out) + "\n");
  console.error(`wrote ${target.pathname}: ${shapes.length} shapes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
