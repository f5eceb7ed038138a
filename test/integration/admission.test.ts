// The validating admission webhook on the local fleet: a controller process serves it on loopback
// and registers its own ValidatingWebhookConfiguration (scoped by an object selector to this
// file's objects, so the shared fleet's other files never wait on it). `kubectl apply` of invalid
// input fails with the controller's field-path message and stores nothing; a sample of the unit
// suite's bad-input corpus is refused with the validator's messages; certificates rotate under
// load without a request getting through unchecked; a stopped or frozen controller never blocks
// kubectl (failurePolicy Ignore, a short timeout).

import type { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdmissionValidator } from "../../src/admission/validator.js";
import { webhookConfiguration } from "../../src/admission/webhook-config.js";
import type { Manifest } from "../../src/api/types.js";
import { readBundle } from "../../src/cli/bundle.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { FileDefinitionSource, readDocuments } from "../../src/definitions/loader.js";
import { buildRegistry } from "../../src/definitions/registry.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, uniqueName, waitFor } from "./support/fleet.js";

const ns = uniqueName("admission");
const configName = `flotilla-test-${ns}`;
const SCOPE_LABEL = "flotilla.dev/admission-test";
/** Serving certificates live 20 s: renewed about every 13 s while the tests run. */
const CERT_VALIDITY = "20s";
const TIMEOUT_SECONDS = 2;
const CORPUS = join(import.meta.dirname, "..", "fixtures", "bad");

let dataDir = "";
let controller: ControllerProcess | undefined;

/** A deployment in this file's namespace, labelled for this file's webhook. */
function deployment(name: string, component: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace: ns, labels: { [SCOPE_LABEL]: ns } },
    spec: { appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "backend", ...component }] } } }], ...extra },
  };
}

const valid = (name: string) => deployment(name, { type: "worker", settings: { image: "myimage-v1" } });
const misspelt = (name: string) => deployment(name, { type: "wrker", settings: { image: "myimage-v1" } });

function apply(doc: unknown, ...flags: string[]) {
  return kubectl("hub", ["apply", "-f", "-", ...flags], { input: JSON.stringify(doc), allowFailure: true, timeoutMs: 60_000 });
}

async function stored(name: string): Promise<boolean> {
  const r = await kubectl("hub", ["get", "applicationdeployments.flotilla.dev", name, "-n", ns, "-o", "name", "--ignore-not-found"]);
  return r.stdout.trim() !== "";
}

interface Registered {
  url: string;
  caBundle: string;
  timeoutSeconds: number;
  failurePolicy: string;
}

async function registered(): Promise<Registered | undefined> {
  const r = await kubectl("hub", ["get", "validatingwebhookconfigurations", configName, "-o", "json", "--ignore-not-found"]);
  if (!r.stdout.trim()) return undefined;
  const hook = (
    JSON.parse(r.stdout) as { webhooks: Array<{ clientConfig: { url?: string; caBundle?: string }; timeoutSeconds: number; failurePolicy: string }> }
  ).webhooks[0];
  if (!hook?.clientConfig.caBundle || !hook.clientConfig.url) return undefined;
  return {
    url: hook.clientConfig.url,
    caBundle: Buffer.from(hook.clientConfig.caBundle, "base64").toString("utf8"),
    timeoutSeconds: hook.timeoutSeconds,
    failurePolicy: hook.failurePolicy,
  };
}

/** The certificate the webhook serves, verified with the caBundle the API server trusts (and its IP SAN). */
function servedCertificate(port: number, caBundle: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: caBundle }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error("no peer certificate"));
    });
    socket.on("error", reject);
  });
}

/** kubectl's output of a refusal by this webhook. */
const DENIED = 'admission webhook "validate.flotilla.dev" denied the request';

describe("the admission webhook", () => {
  let hook: Registered;

  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns, labels: { "flotilla.dev/test": "true" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-admission-"));
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir,
      logFile: join(dataDir, "controller.log"),
      args: [
        "--no-leader-elect",
        "--namespace",
        ns,
        "--admission-addr",
        "127.0.0.1:0",
        "--admission-config-name",
        configName,
        "--admission-object-selector",
        `${SCOPE_LABEL}=${ns}`,
        "--admission-cert-validity",
        CERT_VALIDITY,
      ],
    });
    hook = await waitFor(registered, { timeoutMs: 60_000, message: `ValidatingWebhookConfiguration ${configName} with a caBundle` });
    // The API server reads configurations through an informer: wait until it calls this one.
    await waitFor(async () => (await apply(misspelt(uniqueName("probe")), "--dry-run=server")).stderr.includes(DENIED), {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: "the API server to call the webhook",
    });
  }, 180_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    await kubectl("hub", ["delete", "validatingwebhookconfigurations", configName, "--ignore-not-found"], { allowFailure: true });
    await kubectl("hub", ["delete", "namespace", ns, "--wait=false", "--ignore-not-found"], { allowFailure: true });
    if (dataDir && !process.env.FLOTILLA_KEEP_FLEET_DIR) await rm(dataDir, { recursive: true, force: true });
  });

  it("is registered on loopback with a caBundle that verifies the served certificate, failurePolicy Ignore and a short timeout", async () => {
    expect(hook.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/validate$/);
    expect(hook.failurePolicy).toBe("Ignore");
    expect(hook.timeoutSeconds).toBe(TIMEOUT_SECONDS);
    const cert = await servedCertificate(Number(new URL(hook.url).port), hook.caBundle);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("keeps the bundle's configuration current with the bundle's rights: patch on its own name, no create", async () => {
    type Rule = { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] };
    const bundle = readBundle(join(import.meta.dirname, "..", "..", "deploy"));
    const role = bundle.find((o) => o.kind === "ClusterRole" && o.metadata.name === "flotilla-controller") as Manifest & { rules: Rule[] };
    const rule = role.rules.find((r) => r.apiGroups.includes("admissionregistration.k8s.io")) as Rule;
    // The bundle's rule, for a configuration of this test's own (the shared hub's `flotilla` is not this file's).
    const mine = `${configName}-rbac`;
    const user = `system:serviceaccount:${ns}:flotilla-controller`;
    const rbac = [
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: mine }, rules: [{ ...rule, resourceNames: [mine] }] },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: mine },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: mine },
        subjects: [{ kind: "ServiceAccount", namespace: ns, name: "flotilla-controller" }],
      },
    ];
    await kubectl("hub", ["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }) });
    const config = (name: string, caBundle: string) => {
      const c = webhookConfiguration(
        { name, clientConfig: { url: "https://127.0.0.1:9/validate" }, objectSelector: { matchLabels: { [SCOPE_LABEL]: `never-${ns}` } } },
        caBundle,
      ) as unknown as { webhooks: Array<{ clientConfig: Record<string, unknown> }> };
      if (!caBundle) for (const w of c.webhooks) delete w.clientConfig.caBundle;
      return c;
    };
    // As `flotilla install` does: the bundle's copy, without caBundle, as field manager flotilla.
    await kubectl("hub", ["apply", "--server-side", "--field-manager=flotilla", "-f", "-"], { input: JSON.stringify(config(mine, "")) });
    const asController = (name: string) =>
      kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=flotilla-webhook", `--as=${user}`, "-f", "-"], {
        input: JSON.stringify(config(name, hook.caBundle)),
        allowFailure: true,
      });
    try {
      const updated = await waitFor(
        async () => {
          const r = await asController(mine);
          return r.code === 0 ? r : undefined;
        },
        { timeoutMs: 20_000, message: "the controller's rights to take effect" },
      );
      expect(updated.stderr).toBe("");
      // A re-install (the bundle's copy again, as flotilla) keeps the controller's caBundle.
      await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=flotilla", "-f", "-"], { input: JSON.stringify(config(mine, "")) });
      const after = await kubectl("hub", ["get", "validatingwebhookconfigurations", mine, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"]);
      expect(Buffer.from(after.stdout, "base64").toString("utf8")).toBe(hook.caBundle);
      const other = await asController(`${mine}-other`);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toContain("forbidden");
    } finally {
      await kubectl("hub", ["delete", "validatingwebhookconfigurations", mine, `${mine}-other`, "--ignore-not-found"], { allowFailure: true });
      await kubectl("hub", ["delete", "clusterrolebinding,clusterrole", mine, "--ignore-not-found"], { allowFailure: true });
    }
  }, 60_000);

  it("refuses kubectl apply of a misspelt component type with the field path, and stores nothing", async () => {
    const name = uniqueName("misspelt");
    const r = await apply(misspelt(name));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(DENIED);
    expect(r.stderr).toContain('spec.appRevisions[0].template.spec.components[0].type: unknown component type "wrker". Use one of:');
    expect(await stored(name)).toBe(false);
    // The refusal is counted on the controller's /metrics, with how long the review took.
    const ops = await controller!.logLine((l) => l.msg === "serving /metrics, /healthz and /readyz");
    const text = await (await fetch(`http://127.0.0.1:${ops.port as number}/metrics`)).text();
    const refused = /^flotilla_admission_reviews_total\{kind="ApplicationDeployment",operation="CREATE",allowed="false"\} (\d+)$/m.exec(text);
    expect(Number(refused?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^flotilla_admission_review_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("refuses settings the component's schema does not allow, and stores nothing", async () => {
    const name = uniqueName("schema");
    const r = await apply(deployment(name, { type: "worker", settings: { image: 42 } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(DENIED);
    expect(r.stderr).toContain("spec.appRevisions[0].template.spec.components[0].settings.image: must be string (got 42)");
    expect(await stored(name)).toBe(false);
  });

  it("lets a valid deployment in, and refuses an update that breaks it while the stored one stays", async () => {
    const name = uniqueName("valid");
    const created = await apply(valid(name));
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).not.toContain("denied");
    const broken = await apply(misspelt(name));
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain("unknown component type");
    const r = await kubectl("hub", ["get", "ad", name, "-n", ns, "-o", "jsonpath={.spec.appRevisions[0].template.spec.components[0].type}"]);
    expect(r.stdout).toBe("worker");
  });

  it("refuses a sample of the bad-input corpus with the same messages as the controller's validator", async () => {
    const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
    const validator = new AdmissionValidator({ registry: () => registry, budgetMs: 30_000 });
    const sample = [
      "unknown-trait",
      "settings-unknown-field",
      "settings-missing-required",
      "duplicate-component",
      "duplicate-revision",
      "batches-decreasing",
      "cel-analysis-syntax-error",
      "override-unknown-component",
      "trait-properties-wrong-type",
      "k8s-objects-secret",
    ];
    for (const fixture of sample) {
      const [loaded] = await readDocuments([join(CORPUS, `${fixture}.yaml`)]);
      const doc = loaded?.doc as { metadata: Record<string, unknown> };
      const name = uniqueName("corpus");
      doc.metadata = { ...doc.metadata, name, namespace: ns, labels: { [SCOPE_LABEL]: ns } };
      const expected = await validator.admit({
        uid: "local",
        kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" },
        operation: "CREATE",
        namespace: ns,
        name,
        object: doc,
        dryRun: false,
      });
      expect(expected.allowed, `${fixture} is allowed by the validator`).toBe(false);
      const r = await apply(doc);
      expect(r.code, `${fixture}: kubectl apply succeeded`).not.toBe(0);
      expect(r.stderr, fixture).toContain(DENIED);
      // Path and message of every problem; a fix that lists the installed definitions may differ
      // on the shared hub, where other files install more.
      for (const p of expected.allowed ? [] : expected.problems) expect(r.stderr, fixture).toContain(`${p.path}: ${p.message}`);
      expect(await stored(name), `${fixture} was stored`).toBe(false);
    }
  }, 120_000);

  it("keeps refusing through certificate rotations: no request slips through unchecked", async () => {
    const port = Number(new URL(hook.url).port);
    const first = (await servedCertificate(port, hook.caBundle)).fingerprint256;
    const seen = new Set([first]);
    const deadline = Date.now() + 35_000;
    let refused = 0;
    while (Date.now() < deadline) {
      // A TLS failure would be ignored (failurePolicy Ignore) and the dry run would succeed.
      const r = await apply(misspelt(uniqueName("rotate")), "--dry-run=server");
      expect(r.code, `a bad object got through during rotation: ${r.stdout}`).not.toBe(0);
      expect(r.stderr).toContain(DENIED);
      refused++;
      const current = await registered();
      if (current) seen.add((await servedCertificate(port, current.caBundle)).fingerprint256);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(refused).toBeGreaterThan(10);
    expect(seen.size, "the serving certificate was not rotated").toBeGreaterThanOrEqual(2);
  }, 90_000);

  it("never blocks kubectl when the controller is frozen or gone: a valid deployment is let in within the timeout", async () => {
    const running = controller as ControllerProcess;
    // Frozen: the API server connects, the webhook never answers; it waits timeoutSeconds, then ignores it.
    process.kill(running.pid, "SIGSTOP");
    try {
      const started = Date.now();
      const r = await apply(valid(uniqueName("frozen")));
      const took = Date.now() - started;
      expect(r.code, r.stderr).toBe(0);
      expect(took).toBeLessThan((TIMEOUT_SECONDS + 8) * 1000);
    } finally {
      process.kill(running.pid, "SIGCONT");
    }
    await running.kill();
    // Gone (SIGKILL: nothing cleaned up, the configuration still names the dead port).
    expect(await registered()).toBeDefined();
    const started = Date.now();
    const name = uniqueName("gone");
    const r = await apply(valid(name));
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan((TIMEOUT_SECONDS + 8) * 1000);
    expect(await stored(name)).toBe(true);
    // The controller's own validation is the safety net for what gets in meanwhile.
    const bad = await apply(misspelt(uniqueName("unchecked")));
    expect(bad.code, bad.stderr).toBe(0);
  }, 60_000);
});
