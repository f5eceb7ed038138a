// What the validating admission webhook adds to `kubectl apply` of the quick start's deployment.
//
// `admission`: the webhook's own handling, as the API server calls it: AdmissionReviews POSTed
// over HTTPS with kept-alive connections to the server the controller runs, validating against
// the built-in definitions. Two series: the same spec again (a repeated `kubectl apply`: answered
// from the cache by spec and registry) and a new deployment every time (a new name: the schema,
// CEL and a render of every revision under every wave's overrides).
//
// `admission-fleet` (needs --fleet): creates through a real API server (the local fleet's hub),
// with the webhook registered (URL on loopback, as `flotilla up` does) and without it: the
// latency one create of a new quick-start deployment takes, timed at the client.

import { mkdtemp, rm } from "node:fs/promises";
import { request, Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type Admission, startAdmission } from "../../src/admission/admission.js";
import { createCa, issueServing, servingIdentity } from "../../src/admission/certificates.js";
import { startAdmissionServer } from "../../src/admission/server.js";
import { AdmissionValidator } from "../../src/admission/validator.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { buildRegistry } from "../../src/definitions/registry.js";
import { type RunningFleet, startFleet } from "../../src/fleet/index.js";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/cli/kubeconfig.js";
import type { BenchCase, BenchFigure } from "./types.js";

const say = (line: string) => process.stdout.write(`  [admission] ${line}\n`);

/** The quick start's deployment (examples/quickstart/app.yaml) under a given name. */
function quickstart(name: string, namespace: string): Record<string, unknown> {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: {
            spec: {
              components: [
                {
                  name: "backend",
                  type: "worker",
                  settings: { image: "myimage-v1", cmd: ["sleep", "3600"] },
                  traits: [{ name: "autoscaler", properties: { min: 1, max: 10 } }],
                },
              ],
            },
          },
          rollout: { replicas: 10 },
        },
      ],
      placementStrategies: [{ clusterSelector: { labels: { usage: "production" } } }],
    },
  };
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

function post(agent: Agent, port: number, ca: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: "127.0.0.1", port, path: "/validate", method: "POST", agent, ca, headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const review = (object: Record<string, unknown>, i: number) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `bench-${i}`,
      kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" },
      operation: "CREATE",
      namespace: "default",
      name: (object.metadata as { name: string }).name,
      object,
    },
  });

function figures(tag: string, samples: number[], how: string, target?: number): BenchFigure[] {
  const p50 = percentile(samples, 0.5);
  const p99 = percentile(samples, 0.99);
  return [
    { name: `${tag}, p50`, value: p50, unit: "ms", how },
    {
      name: `${tag}, p99`,
      value: p99,
      unit: "ms",
      how,
      ...(target === undefined ? {} : { target: `<= ${target} ms`, met: p99 <= target }),
    },
  ];
}

export const admissionBench: BenchCase = {
  group: "admission",
  async run(): Promise<BenchFigure[]> {
    const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
    const validator = new AdmissionValidator({ registry: () => registry });
    const now = new Date();
    const ca = await createCa(now);
    const server = await startAdmissionServer({ host: "127.0.0.1", port: 0, admit: (r) => validator.admit(r) });
    server.setCertificate(await issueServing(ca, servingIdentity("flotilla-webhook", "flotilla-system"), now));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      // Warm-up: the TLS session, the compiled definitions, the template worker process.
      for (let i = 0; i < 20; i++) await post(agent, server.port, ca.cert, review(quickstart(`warm-${i}`, "default"), i));
      const same = review(quickstart("example-deploy", "default"), 0);
      const repeated: number[] = [];
      for (let i = 0; i < 500; i++) repeated.push(await post(agent, server.port, ca.cert, same));
      const fresh: number[] = [];
      for (let i = 0; i < 200; i++) fresh.push(await post(agent, server.port, ca.cert, review(quickstart(`app-${i}`, "default"), i)));
      say(
        `repeated p50 ${percentile(repeated, 0.5).toFixed(2)} ms p99 ${percentile(repeated, 0.99).toFixed(2)} ms; new p50 ${percentile(fresh, 0.5).toFixed(2)} ms p99 ${percentile(fresh, 0.99).toFixed(2)} ms`,
      );
      const how =
        "AdmissionReview v1 POSTed over HTTPS (kept-alive) to the webhook's server, validating with the built-in definitions; one request at a time, timed at the client; after 20 warm-up requests";
      return [
        ...figures("admission: the quick start's deployment applied again (cached by spec)", repeated, `${how}; 500 requests of the same spec`, 50),
        ...figures(
          "admission: a new quick-start deployment (schema, CEL, render of every revision and wave)",
          fresh,
          `${how}; 200 requests, each a new name`,
          50,
        ),
      ];
    } finally {
      agent.destroy();
      await server.close();
    }
  },
};

export const admissionFleetBench: BenchCase = {
  group: "admission-fleet",
  needsFleet: true,
  async run(): Promise<BenchFigure[]> {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-admission-"));
    let fleet: RunningFleet | undefined;
    let admission: Admission | undefined;
    try {
      say(`starting a hub (and one member) in ${dir}`);
      fleet = await startFleet({ dir, log: () => undefined, members: ["staging"] });
      const kc = loadKubeConfig(fleet.hub.kubeconfigPath);
      await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
      const client = new KubeClient({ kubeConfig: kc });
      const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
      const create = async (name: string): Promise<number> => {
        const started = process.hrtime.bigint();
        const res = await client.send("POST", "/apis/flotilla.dev/v1alpha1/namespaces/default/applicationdeployments", { body: quickstart(name, "default") });
        if (res.status !== 201) throw new Error(`create ${name}: HTTP ${res.status}`);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const series = async (prefix: string, n: number) => {
        const samples: number[] = [];
        for (let i = 0; i < n; i++) samples.push(await create(`${prefix}-${i}`));
        return samples;
      };
      /** Does the API server call the webhook now? A dry-run create of a misspelt type is refused only by it. */
      const called = async () => {
        const res = await client.send("POST", "/apis/flotilla.dev/v1alpha1/namespaces/default/applicationdeployments?dryRun=All", {
          body: {
            ...quickstart("probe", "default"),
            spec: { appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "b", type: "wrker" }] } } }] },
          },
        });
        return res.status === 422;
      };
      // The API server reads webhook configurations through an informer: wait until it sees the change.
      const until = async (want: boolean) => {
        for (let i = 0; (await called()) !== want; i++) {
          if (i > 120) throw new Error(`the API server ${want ? "never called" : "kept calling"} the webhook`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      // Warm the API server (its caches, etcd) before anything is timed; then time without, with
      // and without again, so that a drift of the machine over the run shows in neither side alone.
      await series("warm", 50);
      const without = await series("plain-a", 150);
      admission = await startAdmission({
        address: "127.0.0.1:0",
        kubeConfig: kc,
        namespace: "default",
        registry: () => registry,
        tenancy: () => undefined,
        logger: pino({ level: "silent" }),
      });
      await admission.ready;
      await until(true);
      const withHook = await series("hooked", 300);
      await admission.stop(); // deletes the configuration (URL mode)
      admission = undefined;
      await until(false);
      without.push(...(await series("plain-b", 150)));
      say(
        `without p50 ${percentile(without, 0.5).toFixed(1)} ms p99 ${percentile(without, 0.99).toFixed(1)} ms; with p50 ${percentile(withHook, 0.5).toFixed(1)} ms p99 ${percentile(withHook, 0.99).toFixed(1)} ms`,
      );
      const how =
        "POST of a new quick-start ApplicationDeployment to the local fleet's hub (one at a time, timed at the client, after 50 warm-up creates); 150 creates without the webhook, 300 with it, 150 without again; the webhook in this process on loopback, registered by URL as flotilla up does";
      const added = percentile(withHook, 0.99) - percentile(without, 0.99);
      return [
        ...figures("admission-fleet: create through the API server without the webhook", without, how),
        ...figures("admission-fleet: create through the API server with the webhook", withHook, how),
        {
          name: "admission-fleet: median latency the webhook adds to a create",
          value: percentile(withHook, 0.5) - percentile(without, 0.5),
          unit: "ms",
          how: "p50 with the webhook minus p50 without",
        },
        {
          name: "admission-fleet: p99 latency the webhook adds to a create",
          value: added,
          unit: "ms",
          how: "p99 with the webhook minus p99 without",
          target: "<= 50 ms",
          met: added <= 50,
        },
      ];
    } finally {
      await admission?.stop();
      await fleet?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
