// The web UI in a real browser (Debian's Chromium through playwright-core) against the contract's
// mock server (test/support/ui-mock-api.ts): sign in from a link, 1,000 deployments listed a page at a time, a
// live SSE update, the canary's deployment view waiting for a promote (with a screenshot for the
// README), the per-cluster diff of a history step, a refused action's reason in the alert, and a
// promote that moves the rollout on. It needs no fleet; the end-to-end test against a controller
// reuses test/support/browser.ts.

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildUi, foreignRequests, launchChromium, newContext, screenshotPath, signInWithLink, timeUntilVisible } from "../support/browser.js";
import { CANARY } from "../support/ui-fixtures.js";
import { type MockUser, OPERATOR, startUiMock, type UiMock, VIEWER } from "../support/ui-mock-api.js";

/** An operator whose rights are taken away while their page is open: the server refuses, the UI says why. */
const REVOKED: MockUser = { ...OPERATOR, token: "mock-revoked-token", username: "system:serviceaccount:team-b:deployer" };
const LAST_ROW = "deployment-row-team-09-app-0999";
const CANARY_ROW = `deployment-row-${CANARY.namespace}-${CANARY.name}`;

describe("web UI in Chromium against the API mock", () => {
  let mock: UiMock;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let foreign: string[];

  beforeAll(async () => {
    buildUi();
    mock = await startUiMock({ extraDeployments: 999, users: [OPERATOR, VIEWER, REVOKED] });
    browser = await launchChromium();
    context = await newContext(browser);
    page = await context.newPage();
    foreign = foreignRequests(page, mock.url);
  });

  afterAll(async () => {
    await browser?.close();
    await mock?.close();
  });

  it("signs in from a link, drops the token from the address bar and lists the 1,000 deployments a page of 100 at a time", async () => {
    await signInWithLink(page, mock.url, OPERATOR.token);
    expect(page.url()).not.toContain(OPERATOR.token);
    await expect(page.getByTestId("user").textContent()).resolves.toBe(OPERATOR.username);
    const ms = await timeUntilVisible(page, `${mock.url}/#/deployments`, "pager-position");
    process.stderr.write(`[ui] 1,000 deployments: ${ms.toFixed(0)} ms from navigation to the first page shown (the bench measures this too)\n`);
    await expect(page.getByTestId("deployment-count").textContent()).resolves.toBe("1,000 of 1,000 deployments");
    await expect(page.getByTestId("pager-position").textContent()).resolves.toBe("1–100 of 1,000 · page 1 of 10");
    const rows = page.locator("tbody tr[data-testid^='deployment-row-']");
    expect(await rows.count()).toBe(100);
    // Sorted by namespace, then name: shop's canary first, then team-00's hundred minus one.
    await expect(rows.first().getAttribute("data-testid")).resolves.toBe(CANARY_ROW);
    await expect(rows.last().getAttribute("data-testid")).resolves.toBe("deployment-row-team-00-app-0990");
    await page.getByTestId("pager-next").click();
    await page.getByTestId("pager-position").filter({ hasText: "101–200 of 1,000 · page 2 of 10" }).waitFor();
    expect(page.url()).toContain("page=2");
    await expect(rows.first().getAttribute("data-testid")).resolves.toBe("deployment-row-team-01-app-0001");
    await page.goto(`${mock.url}/#/deployments?page=10`);
    await page.getByTestId(LAST_ROW).waitFor();
    expect(await rows.count()).toBe(100);
    await page.goto(`${mock.url}/#/deployments`);
    await page.getByTestId("pager-position").filter({ hasText: "page 1 of 10" }).waitFor();
    const canary = page.getByTestId(CANARY_ROW);
    await expect(canary.getByTestId("phase").textContent()).resolves.toBe("Paused");
    await expect(canary.textContent()).resolves.toContain("promote");
    // One health dot per cluster, named in its title.
    await expect(canary.locator(".dot").evaluateAll((dots) => dots.map((d) => d.getAttribute("title")))).resolves.toEqual([
      "staging (staging): Healthy, Paused",
      "prod-eu (production): Healthy, Pending",
      "prod-us (production): Healthy, Pending",
    ]);
  });

  it("applies an SSE event to its row without a reload", async () => {
    await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
    // A value only this page load knows: still there after the update means no reload happened.
    await page.evaluate("window.flotillaTestMarker = 42");
    const row = page.getByTestId("deployment-row-team-00-app-0030");
    await expect(row.getByTestId("phase").textContent()).resolves.toBe("Healthy");
    mock.setPhase("team-00", "app-0030", "Failed");
    await row.getByTestId("phase").filter({ hasText: "Failed" }).waitFor({ timeout: 5000 });
    expect(await page.evaluate("window.flotillaTestMarker")).toBe(42);
  });

  it("filters by phase and label selector, and says what is wrong with a bad selector", async () => {
    await page.getByTestId("filter-phase").selectOption("Paused");
    await page
      .getByTestId("deployment-count")
      .filter({ hasText: /^167 of 1,000/ })
      .waitFor();
    await page.getByTestId("filter-selector").fill("app=storefront");
    await page.getByTestId("filter-selector").press("Enter");
    await page
      .getByTestId("deployment-count")
      .filter({ hasText: /^1 of 1,000/ })
      .waitFor();
    expect(page.url()).toContain("selector=app%3Dstorefront");
    await page.getByTestId("filter-selector").fill("app in ()");
    await page.getByTestId("filter-selector").press("Enter");
    await expect(page.getByRole("alert").textContent()).resolves.toContain("list at least one value");
  });

  it("shows the canary waiting for a promote in staging, waves left to right, and saves a screenshot", async () => {
    await page.goto(`${mock.url}/#/deployments`);
    await page.getByTestId(CANARY_ROW).getByRole("link").click();
    const banner = page.getByTestId("waiting-for");
    await expect(banner.textContent()).resolves.toContain("Waiting for promote");
    await expect(banner.textContent()).resolves.toContain("batch 1/3");
    const staging = await page.getByTestId("wave-staging").boundingBox();
    const production = await page.getByTestId("wave-production").boundingBox();
    expect(staging && production && staging.x < production.x).toBe(true);
    for (const c of ["staging", "prod-eu", "prod-us"]) await page.getByTestId(`cluster-card-${c}`).waitFor();
    await expect(page.getByTestId("cluster-card-staging").textContent()).resolves.toMatch(/v1\s*3\/3.*v2\s*1\/1/);
    await expect(page.getByTestId("placement").textContent()).resolves.toContain("edge-ap");
    await expect(page.getByTestId("analysis").textContent()).resolves.toContain("Successful");
    await expect(page.getByTestId("promote-button").isEnabled()).resolves.toBe(true);
    await expect(page.getByTestId("retry-button").isEnabled()).resolves.toBe(false);

    const rows = page.getByTestId("history-row");
    await rows.nth(3).waitFor();
    expect(await rows.count()).toBe(4);
    await rows.first().click();
    const diff = rows.first().getByTestId("diff").first();
    await diff.waitFor();
    await expect(diff.locator(".diff-add").first().textContent()).resolves.toMatch(/^\+/);
    await expect(diff.locator(".diff-del").first().textContent()).resolves.toBe("-  replicas: 4\n");

    await page.screenshot({ path: await screenshotPath("ui-deployment-mock.png"), fullPage: true });
  });

  it("shows the server's reason when a promote is refused", async () => {
    const own = await newContext(browser);
    const p = await own.newPage();
    await signInWithLink(p, mock.url, REVOKED.token, `/deployments/${CANARY.namespace}/${CANARY.name}`);
    await p.getByTestId("promote-button").waitFor();
    await expect(p.getByTestId("promote-button").isEnabled()).resolves.toBe(true);
    mock.revoke(REVOKED.username);
    await p.getByTestId("promote-button").click();
    const alert = p.getByTestId("action-alert");
    await alert.waitFor();
    await expect(alert.getAttribute("role")).resolves.toBe("alert");
    await expect(alert.textContent()).resolves.toContain(`Promote refused: ${REVOKED.username} may not patch applicationdeployments in shop`);
    await expect(alert.textContent()).resolves.toContain('allows "patch" on applicationdeployments.flotilla.dev in namespace "shop"');
    expect(mock.actions.at(-1)).toMatchObject({ user: REVOKED.username, action: "promote", status: 403 });
    await own.close();
  });

  it("offers a viewer no action", async () => {
    const own = await newContext(browser);
    const p = await own.newPage();
    await signInWithLink(p, mock.url, VIEWER.token, `/deployments/${CANARY.namespace}/${CANARY.name}`);
    await p.getByTestId("waiting-for").waitFor();
    for (const a of ["promote", "abort", "retry", "pause", "resume"]) await expect(p.getByTestId(`${a}-button`).isDisabled()).resolves.toBe(true);
    await own.close();
  });

  it("promotes as the operator: production starts and the history gains the step", async () => {
    await page.getByTestId("promote-button").click();
    await page.getByTestId("action-result").waitFor();
    await page.getByTestId("waiting-for").filter({ hasText: "Waiting for healthy replicas" }).waitFor();
    await expect(page.getByTestId("waiting-for").textContent()).resolves.toContain("wave production");
    await page.getByTestId("history-row").nth(4).waitFor();
    await expect(page.getByTestId("history-row").first().textContent()).resolves.toContain("v2 batch 1/3 in wave production (prod-eu)");
    await expect(page.getByTestId("cluster-card-prod-eu").textContent()).resolves.toContain("0/1");
    expect(mock.actions.at(-1)).toMatchObject({ user: OPERATOR.username, action: "promote", status: 200 });
  });

  it("lists the clusters with mode, version, readiness and their deployments, and the definitions' parameters", async () => {
    await page.getByRole("link", { name: "Clusters" }).click();
    const edge = page.getByTestId("cluster-row-edge-ap");
    await edge.waitFor();
    await expect(edge.textContent()).resolves.toMatch(/edge-ap.*Pull.*v1\.32\.4.*no.*usage=edge.*none/);
    await expect(page.getByTestId("cluster-row-staging").textContent()).resolves.toContain("shop/storefront");
    mock.emitCluster({ name: "edge-ap", mode: "Pull", version: "v1.33.2", ready: true, labels: { usage: "edge" }, deployments: [] });
    await edge.filter({ hasText: "v1.33.2" }).waitFor({ timeout: 5000 });

    await page.getByRole("link", { name: "Definitions" }).click();
    const autoscaler = page.getByTestId("definition-autoscaler");
    await autoscaler.waitFor();
    await expect(autoscaler.locator("tr", { hasText: "cpu" }).textContent()).resolves.toBe("cpuinteger80Target CPU utilisation in percent.");
    await expect(page.getByTestId("definition-webservice").locator("tr", { hasText: "image" }).textContent()).resolves.toContain("image *");
  });

  it("refuses a wrong token with the server's message and signs out", async () => {
    await page.getByTestId("signout-button").click();
    await page.getByTestId("token-input").waitFor();
    expect((await context.cookies()).filter((c) => c.name === "flotilla_token")).toEqual([]);
    await page.getByTestId("token-input").fill("not-a-token");
    await page.getByTestId("signin-button").click();
    await expect(page.getByTestId("signin-error").textContent()).resolves.toContain("TokenReview");
    await page.getByTestId("token-input").fill(VIEWER.token);
    await page.getByTestId("signin-button").click();
    await expect(page.getByTestId("user").textContent()).resolves.toBe(VIEWER.username);
  });

  it("loaded nothing from outside its own origin", () => {
    expect(foreign).toEqual([]);
  });
});
