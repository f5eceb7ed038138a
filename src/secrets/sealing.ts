// What `flotilla secret seal` and `flotilla secret rekey` do, without the hub: which clusters a
// value goes to (names, a label selector or a deployment's placement), their published keys plus
// the hub's rekey key, and the sealed-secret component printed for an ApplicationDeployment. The
// keys come through a SealingSource (the hub in the CLI, a fake in tests). Plaintext lives only in
// this process's memory: it is never printed, logged or put in an error, and neither is a key.

import { FlotillaError } from "../api/errors.js";
import { resourceProblems } from "../api/validate.js";
import type { ApplicationDeployment, Cluster, ComponentSpec, JsonObject } from "../api/types.js";
import { place } from "../placement/select.js";
import { isRecipient, isSealedValue, seal, UnsealError, unseal } from "./age.js";

/** The component type that renders one Secret from sealed values. */
export const SEALED_SECRET_TYPE = "sealed-secret";

/** Where the hub's keys come from. */
export interface SealingSource {
  /** Every Cluster on the hub, with its status (status.sealing holds its recipient). */
  clusters(): Promise<Cluster[]>;
  /** The hub's rekey recipient, which every sealed value also goes to. */
  rekeyRecipient(): Promise<string>;
  /** The hub's rekey identity (only `rekey` asks for it; reading it needs rights on its Secret). */
  rekeyIdentity(): Promise<string>;
}

/** Which clusters a value is sealed for. */
export type SealTarget = { clusters: string[] } | { selector: string } | { deployments: ApplicationDeployment[] };

/** A problem with what was asked (a cluster without a key, a bad key name, a value that does not open). */
export class SealingError extends FlotillaError {
  override name = "SealingError";
}

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` cannot be a Secret data key, or undefined when it can (Kubernetes' rule for data keys). */
export function dataKeyProblem(key: string): string | undefined {
  if (key === "") return "a data key must not be empty";
  if (key.length > 253) return `data key "${key.slice(0, 40)}…" is longer than 253 characters`;
  if (!DATA_KEY.test(key)) return `data key "${key}" may hold only letters, digits, '-', '_' and '.'`;
  if (key === "." || key === ".." || key.startsWith("..")) return `data key "${key}" must not be "." or ".." or start with ".."`;
  return undefined;
}

/** Why `name` cannot name the rendered Secret, or undefined. */
export function componentNameProblem(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    return `--name "${name}" must be a valid Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`;
  return undefined;
}

/** `k=v,k2=v2` (equality only) as labels; a SealingError naming the bad part otherwise. */
export function parseSelector(selector: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of selector.split(",").map((p) => p.trim())) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)==?([-A-Za-z0-9_.]*)$/.exec(part);
    if (!m?.[1]) throw new SealingError(`--selector: "${part}" is not key=value; write labels as key=value[,key=value]`);
    labels[m[1]] = m[2] ?? "";
  }
  return labels;
}

/** The clusters each deployment's placement selects, in any of its waves (sorted, no duplicates). */
export function placedClusters(deployments: readonly ApplicationDeployment[], clusters: Cluster[]): string[] {
  const names = new Set<string>();
  for (const d of deployments) {
    for (const wave of place(d.spec.placementStrategies, clusters, { deployment: d.metadata.name }).waves) for (const c of wave.clusters) names.add(c);
  }
  return [...names].sort();
}

/** The clusters a target names, sorted by name; a SealingError when a named cluster does not exist or nothing is selected. */
export function targetClusters(target: SealTarget, clusters: Cluster[]): Cluster[] {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  let names: string[];
  let what: string;
  if ("clusters" in target) {
    const unknown = target.clusters.filter((n) => !byName.has(n));
    if (unknown.length)
      throw new SealingError(`--cluster: no Cluster ${unknown.join(", ")} on the hub (it has: ${[...byName.keys()].sort().join(", ") || "none"})`);
    names = [...new Set(target.clusters)];
    what = "--cluster";
  } else if ("selector" in target) {
    const labels = parseSelector(target.selector);
    names = clusters.filter((c) => Object.entries(labels).every(([k, v]) => c.metadata.labels?.[k] === v)).map((c) => c.metadata.name);
    what = `--selector ${target.selector}`;
  } else {
    names = placedClusters(target.deployments, clusters);
    what = `the placement of ${target.deployments.map((d) => `${d.metadata.namespace ?? "default"}/${d.metadata.name}`).join(", ")}`;
  }
  if (!names.length) throw new SealingError(`${what} selects no cluster on the hub; a value sealed to no cluster could be opened nowhere`);
  return names.sort().map((n) => byName.get(n) as Cluster);
}

/**
 * The recipients to seal to: each cluster's published key (sorted by cluster name), then the
 * hub's rekey recipient. A SealingError names every cluster without a published key.
 */
export function recipientsFor(clusters: readonly Cluster[], rekeyRecipient: string): string[] {
  const missing = clusters.filter((c) => !c.status?.sealing?.recipient || !isRecipient(c.status.sealing.recipient));
  if (missing.length) {
    const names = missing.map((c) => c.metadata.name).join(", ");
    throw new SealingError(
      `no sealing key published for cluster ${names} (Cluster status.sealing.recipient is empty). ` +
        "A push cluster gets its key from the controller within a probe period once the controller runs (with create rights on Secrets in its namespace); " +
        "a pull cluster from its agent's first report. Check with: flotilla cluster list -o wide",
    );
  }
  if (!isRecipient(rekeyRecipient)) throw new SealingError("the hub's rekey recipient is not an age recipient (age1…)");
  return [...new Set([...clusters.map((c) => c.status?.sealing?.recipient as string), rekeyRecipient])];
}

/** A sealed-secret component: each value sealed to every recipient, recorded in settings.recipients. */
export async function sealComponent(o: {
  name: string;
  data: ReadonlyArray<readonly [string, Uint8Array]>;
  recipients: readonly string[];
  /** The Secret's type; absent means Opaque. */
  type?: string;
}): Promise<ComponentSpec> {
  const nameProblem = componentNameProblem(o.name);
  if (nameProblem) throw new SealingError(nameProblem);
  if (!o.data.length) throw new SealingError("nothing to seal: give at least one --from-literal KEY=VALUE or --from-file KEY=PATH");
  const data: Record<string, string> = {};
  for (const [key, value] of o.data) {
    const problem = dataKeyProblem(key);
    if (problem) throw new SealingError(problem);
    if (Object.hasOwn(data, key)) throw new SealingError(`data key "${key}" is given twice`);
    data[key] = await seal(value, o.recipients);
  }
  const settings: JsonObject = { data, recipients: [...o.recipients], ...(o.type ? { type: o.type } : {}) };
  return { name: o.name, type: SEALED_SECRET_TYPE, settings };
}

/** What rekey did to one component. */
export interface RekeyedComponent {
  /** `<namespace>/<deployment>`. */
  deployment: string;
  /** Where it is in the document, e.g. `spec.appRevisions[0].template.spec.components[2]`. */
  path: string;
  component: string;
  values: number;
  /** False when its recorded recipients already were the current ones (nothing re-sealed). */
  changed: boolean;
}

interface SealedSpot {
  path: string;
  component: string;
  settings: JsonObject;
}

/** The sealed-secret components of a deployment, and the wave overrides of their settings.data. */
function sealedSpots(d: ApplicationDeployment): SealedSpot[] {
  const spots: SealedSpot[] = [];
  const sealedNames = new Set<string>();
  d.spec.appRevisions.forEach((rev, r) => {
    rev.template.spec.components.forEach((c, i) => {
      if (c.type !== SEALED_SECRET_TYPE || !c.settings) return;
      sealedNames.add(c.name);
      spots.push({ path: `spec.appRevisions[${r}].template.spec.components[${i}]`, component: c.name, settings: c.settings });
    });
  });
  (d.spec.placementStrategies ?? []).forEach((s, w) => {
    (s.overrides ?? []).forEach((o, i) => {
      if (!sealedNames.has(o.component) || !o.settings || typeof o.settings.data !== "object") return;
      spots.push({ path: `spec.placementStrategies[${w}].overrides[${i}]`, component: o.component, settings: o.settings });
    });
  });
  return spots;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Re-seal every sealed-secret value of the documents to the current recipients (the clusters each
 * deployment's placement selects, plus the rekey recipient), in place. Values are opened with the
 * rekey identity, which is read only when some component needs it. Components whose recorded
 * recipients are already current are left as they are unless `force`.
 */
export async function rekeyDocuments(docs: unknown[], source: SealingSource, options: { force?: boolean } = {}): Promise<RekeyedComponent[]> {
  const done: RekeyedComponent[] = [];
  let clusters: Cluster[] | undefined;
  let identity: string | undefined;
  let rekeyRecipient: string | undefined;
  for (const doc of docs) {
    if ((doc as { kind?: unknown } | null)?.kind !== "ApplicationDeployment") continue;
    const problems = resourceProblems(doc);
    if (problems.length) throw new SealingError(`the ApplicationDeployment is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    const d = doc as ApplicationDeployment;
    const key = `${d.metadata.namespace ?? "default"}/${d.metadata.name}`;
    const spots = sealedSpots(d);
    if (!spots.length) continue;
    clusters ??= await source.clusters();
    rekeyRecipient ??= await source.rekeyRecipient();
    const placed = targetClusters({ deployments: [d] }, clusters);
    const recipients = recipientsFor(placed, rekeyRecipient);
    for (const spot of spots) {
      const data = spot.settings.data;
      if (data === null || typeof data !== "object" || Array.isArray(data))
        throw new SealingError(`${key}: ${spot.path}.settings.data must be a mapping of keys to sealed values`);
      const entries = Object.entries(data as Record<string, unknown>);
      const recorded = Array.isArray(spot.settings.recipients) ? (spot.settings.recipients as string[]) : [];
      if (!options.force && sameSet(recorded, recipients)) {
        done.push({ deployment: key, path: spot.path, component: spot.component, values: entries.length, changed: false });
        continue;
      }
      identity ??= await source.rekeyIdentity();
      const resealed: Record<string, string> = {};
      for (const [k, value] of entries) {
        const where = `${key}: ${spot.path}.settings.data.${k}`;
        if (typeof value !== "string" || !isSealedValue(value))
          throw new SealingError(`${where} is not a sealed value (an armored age file); seal it with flotilla secret seal`);
        let plain: Uint8Array;
        try {
          plain = await unseal(value, identity);
        } catch (e) {
          if (e instanceof UnsealError && e.reason === "not-a-recipient")
            throw new SealingError(
              `${where} was not sealed to the hub's rekey key, so it cannot be re-sealed without a cluster's key; seal it again with flotilla secret seal`,
            );
          throw new SealingError(`${where} is damaged or was tampered with; seal it again with flotilla secret seal`);
        }
        resealed[k] = await seal(plain, recipients);
        plain.fill(0);
      }
      spot.settings.data = resealed;
      spot.settings.recipients = [...recipients];
      done.push({ deployment: key, path: spot.path, component: spot.component, values: entries.length, changed: true });
    }
  }
  return done;
}
