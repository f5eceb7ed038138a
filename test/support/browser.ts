// Browser tests' shared pieces: Debian's Chromium driven by playwright-core (no browser download;
// `bash scripts/install-control-plane.sh` installs the `chromium` package), the web UI built once
// per process with Vite, sign-in through a `#/signin?token=` link, and a record of any request a
// page makes outside the UI's own origin (the UI must load nothing from the internet). Used by
// the mock-backed browser test, the UI bench case and the end-to-end test against a controller.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { packageRoot } from "../../src/cli/package-root.js";
import { LIST_SHOWN_MARK } from "../../src/ui/web/marks.js";

/** Where Debian's `chromium` package puts the browser; FLOTILLA_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.FLOTILLA_CHROMIUM ?? "/usr/bin/chromium";

/** Headless flags that keep the browser off the network except for the pages it is sent to. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: the browser tests drive Debian's Chromium. Install it with \`bash scripts/install-control-plane.sh\` (or \`apt-get install chromium\`), or set FLOTILLA_CHROMIUM to a Chromium binary.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

let built = false;

/**
 * Builds the web UI into dist/ui/ (`vite build`) once per process, so a test never drives a
 * bundle older than the sources. Returns the folder.
 */
export function buildUi(): string {
  const root = packageRoot();
  const out = join(root, "dist", "ui");
  if (built) return out;
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(root, "node_modules", "vite", "bin", "vite.js"), "build"], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`vite build failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  process.stderr.write(`[ui] dist/ui built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  built = true;
  return out;
}

/** A fresh context (own cookies) with a viewport wide enough for the waves side by side. */
export function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1360, height: 900 }, locale: "en-US", timezoneId: "UTC" });
}

/**
 * Signs in through the link `flotilla up` prints (`<base>/#/signin?token=…`) and waits until the
 * app has left the sign-in page. `next` is the hash route to land on (default the deployments list).
 */
export async function signInWithLink(page: Page, baseUrl: string, token: string, next?: string): Promise<void> {
  const q = new URLSearchParams({ token, ...(next ? { next } : {}) });
  await page.goto(`${baseUrl}/#/signin?${q.toString()}`);
  // Watched from Node, not with a page function: the UI server's Content-Security-Policy forbids
  // the eval that Playwright's string predicates need.
  await page.waitForURL((url) => !url.hash.startsWith("#/signin"), { timeout: 15_000 });
}

/** Requests the page makes to any origin but `origin` (fonts, CDNs, telemetry), collected as they happen. */
export function foreignRequests(page: Page, origin: string): string[] {
  const foreign: string[] = [];
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) foreign.push(url);
  });
  return foreign;
}

/**
 * Milliseconds from navigation to `url` until the element `[data-testid=<testid>]` is visible: a
 * full page load (from about:blank, so a hash-only change cannot pass for one), the app's start,
 * its API calls and the render.
 */
export async function timeUntilVisible(page: Page, url: string, testid: string, timeoutMs = 30_000): Promise<number> {
  await page.goto("about:blank");
  const started = performance.now();
  await page.goto(url);
  // A CSS selector (the browser's own querySelector), not getByTestId: Playwright's test-id engine
  // walks every element on each poll, which on a 20,000-node page costs as much as the render.
  await page.locator(`[data-testid="${testid}"]`).waitFor({ state: "visible", timeout: timeoutMs });
  return performance.now() - started;
}

/**
 * The page's own measure of its deployments list: the User Timing mark the app sets in the frame
 * that paints the list's first page (src/ui/web/marks.ts), ms from navigation start. Free of the
 * driver's polling and protocol round trips, which a loaded machine makes long.
 */
export async function listShownAt(page: Page): Promise<number> {
  await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, LIST_SHOWN_MARK, { polling: 50 });
  return page.evaluate((mark) => performance.getEntriesByName(mark)[0]?.startTime ?? Number.NaN, LIST_SHOWN_MARK);
}

/** When the page had the whole answer of `GET /api/deployments` (resource timing), ms from navigation start. */
export function listAnsweredAt(page: Page): Promise<number> {
  return page.evaluate(() => {
    const entry = performance.getEntriesByType("resource").find((e) => new URL(e.name).pathname === "/api/deployments") as unknown as
      | { responseEnd: number }
      | undefined;
    return entry?.responseEnd ?? Number.NaN;
  });
}

/**
 * Where a test saves a screenshot for review: `.flotilla/screenshots/` (ignored by Git), or
 * `docs/images/` when FLOTILLA_UPDATE_SCREENSHOTS=1, to refresh the pictures the docs show.
 */
export async function screenshotPath(name: string): Promise<string> {
  const dir = process.env.FLOTILLA_UPDATE_SCREENSHOTS === "1" ? join(packageRoot(), "docs", "images") : join(packageRoot(), ".flotilla", "screenshots");
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
