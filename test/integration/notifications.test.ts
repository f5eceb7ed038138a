// Notifications on the fleet, with the controller as a real process: a loopback HTTP receiver (in
// this test; its URL kept in a Secret, as a Slack URL should be) is told, in Slack format and
// signed with a Secret's value, of the canary's pause and completion, each exactly once — across a
// controller killed after a delivery (the sent record in the Notification's status keeps it from
// sending again), and across 30 s with the receiver down and the controller killed meanwhile (the
// paused batch still stands, so the new controller sends it once the receiver is back). Status
// counts deliveries and failures and holds neither the URL nor the secret; neither does the
// controller's log.

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream } from "../../src/api/serialize.js";
import type { ApplicationDeployment, AppRevision, Notification } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { applyOnHub, getDeployment } from "./support/canary.js";
import { hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";

const ROOT = join(import.meta.dirname, "..", "..");
const SIGNING_SECRET = "notify-it-signing-5d1e9a";
/** Part of the URL's path, as a Slack webhook's token is: it must appear in no status and no log. */
const URL_TOKEN = "T0NOTIFY/B0IT/urltoken7c2f";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A loopback receiver that can go away and come back on the same port. */
class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  port = 0;

  async open(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The events received, as `<event> <revision>` from each request's id header. */
  events(): string[] {
    return this.received.map((r) => {
      const id = String(r.headers["x-flotilla-event-id"]);
      const [event, , revision] = id.split("/");
      return `${event} ${revision}`;
    });
  }

  find(event: string, revision: string): Received | undefined {
    return this.received.find((r) => {
      const [e, , rev] = String(r.headers["x-flotilla-event-id"]).split("/");
      return e === event && rev === revision;
    });
  }
}

let root: string;
let controller: ControllerProcess | undefined;
const logs: string[] = [];
let failed = false;
const receiver = new Receiver();

function startController(n: number): ControllerProcess {
  const logFile = join(root, `controller-${n}.log`);
  logs.push(logFile);
  return spawnController({ kubeconfig: hub().kubeconfigPath, dataDir: join(root, "data"), logFile, args: ["--no-leader-elect"] });
}

/** The canary example on staging alone, with revisions up to `upTo`; short soak and analysis for the test. */
function canary(example: ApplicationDeployment, namespace: string, revisions: AppRevision[]): ApplicationDeployment {
  return {
    ...example,
    metadata: { name: "frontend", namespace },
    spec: { ...example.spec, appRevisions: revisions, placementStrategies: [{ name: "staging", clusterSelector: { names: ["staging"] } }] },
  };
}

async function notification(namespace: string): Promise<Notification> {
  return (await kubeConfig("hub")
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "notifications", name: "team" })) as Notification;
}

function verifySignature(r: Received): void {
  const header = String(r.headers["x-flotilla-signature"]);
  const expected = `sha256=${createHmac("sha256", SIGNING_SECRET).update(Buffer.from(r.body, "utf8")).digest("hex")}`;
  expect(header.length).toBe(expected.length);
  expect(timingSafeEqual(Buffer.from(header), Buffer.from(expected)), "X-Flotilla-Signature matches the body's HMAC").toBe(true);
  const slack = JSON.parse(r.body) as { text?: unknown; blocks?: unknown };
  expect(typeof slack.text).toBe("string");
  expect(Array.isArray(slack.blocks)).toBe(true);
}

describe("notifications", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    root = await mkdtemp(join(tmpdir(), "flotilla-notify-"));
    await receiver.open();
    controller = startController(1);
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    await receiver.close();
    if (failed) console.log(`[notifications] the controllers' logs kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("tells a Slack receiver of each pause and completion once, signed, across a receiver outage and controller restarts", async () => {
    try {
      await withNamespace(["hub", "staging"], async (ns) => {
        const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
        const [v1, v2] = example.spec.appRevisions as [AppRevision, AppRevision];
        v2.rollout!.batches![1]!.wait = "2s";
        v2.rollout!.analysis!.interval = "1s";
        const v3 = structuredClone(v2);
        v3.name = "v3";
        (v3.template.spec.components[0]!.settings as { image: string }).image = "nginx:1.28";
        const phase = async () => (await getDeployment(hub(), ns, "frontend"))?.status;
        const promote = () => kubectl("hub", ["annotate", "ad", "frontend", "-n", ns, "flotilla.dev/promote=true", "--overwrite"]);
        const arrived = (event: string, revision: string, timeoutMs = 90_000) =>
          waitFor(() => receiver.find(event, revision), { timeoutMs, intervalMs: 250, message: `${event} of ${revision} at the receiver` });

        await kubectl("hub", ["create", "secret", "generic", "notify-signing", "-n", ns, `--from-literal=token=${SIGNING_SECRET}`]);
        // The Slack URL is a credential: it lives in a Secret, not in the Notification.
        const url = `http://127.0.0.1:${receiver.port}/services/${URL_TOKEN}`;
        await kubectl("hub", ["create", "secret", "generic", "notify-slack", "-n", ns, `--from-literal=url=${url}`]);
        const notificationWith = (webhook: Record<string, unknown>) => ({
          apiVersion: "flotilla.dev/v1alpha1",
          kind: "Notification",
          metadata: { name: "team", namespace: ns },
          spec: { events: ["BatchPaused", "RolloutCompleted"], webhook: { format: "slack", secretRef: { name: "notify-signing", key: "token" }, ...webhook } },
        });
        // Both places for the URL: the API server refuses it (the CRD's schema), naming the field.
        await expect(applyOnHub(hub(), notificationWith({ url, urlSecretRef: { name: "notify-slack", key: "url" } }))).rejects.toThrow(/spec\.webhook/);
        await applyOnHub(hub(), notificationWith({ urlSecretRef: { name: "notify-slack", key: "url" } }));

        // v1: one completion.
        await applyOnHub(hub(), canary(example, ns, [v1]));
        verifySignature(await arrived("RolloutCompleted", "v1", 120_000));

        // v2 pauses after the canary batch: BatchPaused, signed, says what it waits for.
        await applyOnHub(hub(), canary(example, ns, [v1, v2]));
        const paused = await arrived("BatchPaused", "v2");
        verifySignature(paused);
        expect(JSON.parse(paused.body).text).toContain(`Waiting for promote: ${ns}/frontend v2`);
        expect(paused.headers["x-flotilla-event"]).toBe("BatchPaused");

        // Killed once the delivery is recorded in status: the new controller sees the same pause
        // standing and must not send it again.
        await waitFor(async () => (await notification(ns)).status?.sent?.some((s) => s.key.startsWith("BatchPaused/") && s.key.includes("/v2/")), {
          message: "BatchPaused of v2 in the Notification's sent record",
        });
        await controller?.kill();
        controller = startController(2);
        await promote();
        verifySignature(await arrived("RolloutCompleted", "v2"));
        expect((await phase())?.stableRevision).toBe("v2");

        // The receiver goes away for 30 s; v3 pauses meanwhile and the controller is killed and
        // restarted while delivery fails.
        await receiver.close();
        const downAt = Date.now();
        await applyOnHub(hub(), canary(example, ns, [v1, v2, v3]));
        await waitFor(
          async () => (await phase())?.rollout?.clusters?.find((c) => c.name === "staging")?.state === "Paused" && (await phase())?.targetRevision === "v3",
          {
            timeoutMs: 60_000,
            message: "v3 paused in staging",
          },
        );
        const failing = await waitFor(
          async () => {
            const s = (await notification(ns)).status;
            return (s?.failed ?? 0) > 0 ? s : undefined;
          },
          { message: "a failed delivery counted in status" },
        );
        expect(failing.lastFailure).toMatchObject({ event: "BatchPaused", deployment: `${ns}/frontend` });
        expect(failing.lastFailure?.message).toContain("no answer from the receiver");
        expect(failing.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "DeliveryFailed" });
        await controller?.kill();
        controller = startController(3);
        await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));
        await receiver.open();
        const late = await arrived("BatchPaused", "v3", 60_000);
        verifySignature(late);
        await promote();
        verifySignature(await arrived("RolloutCompleted", "v3"));

        // Exactly once each, with nothing arriving late.
        await new Promise((r) => setTimeout(r, 5_000));
        expect(receiver.events()).toEqual(["RolloutCompleted v1", "BatchPaused v2", "RolloutCompleted v2", "BatchPaused v3", "RolloutCompleted v3"]);

        const status = await waitFor(
          async () => {
            const s = (await notification(ns)).status;
            return s?.delivered === 5 ? s : undefined;
          },
          { message: "5 deliveries in status" },
        );
        expect(status.failed).toBeGreaterThan(0);
        expect(status.lastDelivery).toMatchObject({ event: "RolloutCompleted", deployment: `${ns}/frontend` });
        expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Delivered" });
        const text = JSON.stringify(status);
        for (const leak of [URL_TOKEN, "urltoken", SIGNING_SECRET, `127.0.0.1:${receiver.port}`, Buffer.from(SIGNING_SECRET).toString("base64")])
          expect(text, `status holds ${leak}`).not.toContain(leak);
        for (const file of logs) {
          const log = readFileSync(file, "utf8");
          for (const leak of [URL_TOKEN, "urltoken", SIGNING_SECRET, `127.0.0.1:${receiver.port}`]) expect(log, `${file} holds ${leak}`).not.toContain(leak);
        }
        // The finalizer needs a running controller: delete the deployment before the namespace goes.
        await kubectl("hub", ["delete", "ad", "frontend", "-n", ns, "--wait", "--timeout=60s"]);
      });
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 170_000);
});
