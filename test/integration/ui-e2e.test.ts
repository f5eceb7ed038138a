// The web UI end to end: the compiled controller serves the built app (dist/ui) and its API on
// --ui-addr against the shared fleet, Debian's Chromium drives it. The webservice canary pauses
// in staging; the operator, signed in from the `flotilla up` link, sees it waiting for promote,
// clicks Promote and watches production start and the history grow through the live stream (no
// reload), and the hub's status agrees with the page. The viewer sees Promote disabled with the
// RBAC reason, and the API refuses the viewer's promote with the same words. The deployment view
// is saved as a screenshot (docs/images/ui-deployment.png with FLOTILLA_UPDATE_SCREENSHOTS=1).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import type { UiIdentity } from "../../src/ui/server/identities.js";
import { buildUi, foreignRequests, launchChromium, newContext, screenshotPath, signInWithLink } from "../support/browser.js";
import { applyOnHub, getDeployment } from "./support/canary.js";
import { hub, kubectl, waitFor, withNamespace } from "./support/fleet.js";
import { startUiController, type UiController } from "./support/ui-controller.js";

const ROOT = join(import.meta.dirname, "..", "..");
const NAME = "frontend";

let ui: UiController | undefined;
let browser: Browser | undefined;
let base: string;
let viewer: UiIdentity;
let operator: UiIdentity;
let failed = false;

/** The example's canary with short waits, so staging's remaining batches pass in seconds. */
async function canary(namespace: string): Promise<ApplicationDeployment> {
  const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const full: ApplicationDeployment = { ...example, metadata: { name: NAME, namespace } };
  const v2 = full.spec.appRevisions[1]!;
  v2.rollout!.batches![1]!.wait = "2s";
  v2.rollout!.analysis!.interval = "1s";
  return full;
}

describe("the web UI against a real controller, in Chromium", () => {
  beforeAll(async () => {
    buildUi();
    ui = await startUiController("ui-e2e");
    ({ base, viewer, operator } = ui);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.stop(failed);
  });

  it("shows the canary paused in staging, promotes it as the operator, and refuses the viewer with the reason", async () => {
    try {
      await withNamespace(
        ["hub", "staging", "prod-eu", "prod-us"],
        async (ns) => {
          const full = await canary(ns);
          const read = () => getDeployment(hub(), ns, NAME);
          // v1 alone until Healthy, then v2: its first staging batch is one canary pod, then a pause.
          await applyOnHub(hub(), { ...full, spec: { ...full.spec, appRevisions: [full.spec.appRevisions[0]!] } });
          await waitFor(async () => (await read())?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1000, message: "v1 Healthy" });
          await applyOnHub(hub(), full);
          const paused = await waitFor(
            async () => {
              const ad = await read();
              return ad?.status?.rollout?.wave === "staging" && ad.status.rollout.waitingFor === "promote" ? ad : undefined;
            },
            { timeoutMs: 90_000, intervalMs: 1000, message: "v2 paused for promote in staging" },
          );
          expect(paused.status?.phase).toBe("Paused");

          // The operator, signed in from the link, lands on the deployment view.
          const ctx = await newContext(browser as Browser);
          const page: Page = await ctx.newPage();
          const foreign = foreignRequests(page, base);
          await signInWithLink(page, base, operator.token, `/deployments/${ns}/${NAME}`);
          await expect(page.getByTestId("user").textContent()).resolves.toBe(operator.username);
          const banner = page.getByTestId("waiting-for");
          await banner.filter({ hasText: /waiting for promote/i }).waitFor({ timeout: 20_000 });
          await expect(banner.textContent()).resolves.toContain("wave staging");
          const staging = await page.getByTestId("wave-staging").boundingBox();
          const production = await page.getByTestId("wave-production").boundingBox();
          expect(staging && production && staging.x < production.x).toBe(true);
          const stagingCard = page.getByTestId("cluster-card-staging");
          await stagingCard.locator(".bars li").first().waitFor();
          // Replica bars: one v2 canary next to three v1 pods.
          await expect(
            stagingCard.locator(".bars li").evaluateAll((li) => li.map((l) => l.getAttribute("title")?.replace(/: \d+ of/, ": _ of"))),
          ).resolves.toEqual(expect.arrayContaining(["v1: _ of 3 replicas ready", "v2: _ of 1 replicas ready"]));
          await expect(page.getByTestId("promote-button").isEnabled()).resolves.toBe(true);
          await expect(page.getByTestId("actions-note").count()).resolves.toBe(0);
          const rows = page.getByTestId("history-row");
          await rows.first().waitFor();
          const before = await rows.count();
          expect(before).toBeGreaterThan(1);
          await page.screenshot({ path: await screenshotPath("ui-deployment.png"), fullPage: true });

          // Promote: staging's last batches pass, production starts; the page follows the live stream.
          // A page function, not a string: the server's Content-Security-Policy forbids eval.
          await page.evaluate(() => {
            (globalThis as Record<string, unknown>).flotillaTestMarker = 7;
          });
          await page.getByTestId("promote-button").click();
          await expect(page.getByTestId("action-result").textContent()).resolves.toContain("flotilla.dev/promote=true set");
          await banner.filter({ hasText: "wave production" }).waitFor({ timeout: 120_000 });
          await page.getByTestId("wave-production").locator(".badge", { hasText: "current" }).waitFor();
          await page.getByTestId("cluster-card-prod-eu").locator(".bars li", { hasText: "v2" }).waitFor({ timeout: 30_000 });
          await waitFor(async () => ((await rows.count()) > before ? true : undefined), { timeoutMs: 30_000, message: "the history gains rows" });
          await expect(rows.first().textContent()).resolves.toContain("wave production");
          expect(await page.evaluate(() => (globalThis as Record<string, unknown>).flotillaTestMarker)).toBe(7);
          // The hub says the same: the rollout is in production now, staging's pause is over.
          const truth = await read();
          expect(truth?.status?.rollout?.wave).toBe("production");
          expect(truth?.status?.rollout?.clusters?.find((c) => c.name === "staging")?.state).toBe("Completed");
          expect(foreign).toEqual([]);
          await ctx.close();

          // The viewer: the same view, every action disabled, and why.
          const vctx = await newContext(browser as Browser);
          const vpage = await vctx.newPage();
          const vforeign = foreignRequests(vpage, base);
          await signInWithLink(vpage, base, viewer.token, `/deployments/${ns}/${NAME}`);
          await vpage.getByTestId("waiting-for").waitFor({ timeout: 20_000 });
          const reason = `${viewer.username} may not patch applicationdeployments in ${ns}`;
          await expect(vpage.getByTestId("promote-button").isDisabled()).resolves.toBe(true);
          await expect(vpage.getByTestId("promote-button").getAttribute("title")).resolves.toContain(`you may not promote: ${reason}`);
          await expect(vpage.getByTestId("actions-note").textContent()).resolves.toContain(reason);
          expect(vforeign).toEqual([]);
          await vctx.close();
          // The API refuses the viewer's promote with the same reason.
          const refused = await fetch(`${base}/api/deployments/${ns}/${NAME}/actions/promote`, {
            method: "POST",
            headers: { authorization: `Bearer ${viewer.token}` },
          });
          expect(refused.status).toBe(403);
          expect(((await refused.json()) as { error: string }).error).toBe(reason);
          expect((await read())?.metadata.annotations?.["flotilla.dev/promote"]).toBeUndefined();

          // Clean up while the controller runs, so it removes what it placed on the members.
          await kubectl("hub", ["delete", "ad", NAME, "-n", ns, "--wait=true", "--timeout=60s"]);
        },
        { prefix: "ui-e2e" },
      );
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 300_000);
});
