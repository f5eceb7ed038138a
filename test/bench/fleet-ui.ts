// The web UI on the bench's fleet: the controller that just brought N deployments to Healthy
// serves its UI (as `flotilla controller` does by default), and Debian's Chromium, signed in as
// the local fleet's viewer identity (a real ServiceAccount token: every request is checked with a
// TokenReview and a SubjectAccessReview), loads the deployments list. Measured: navigation → the
// list's first page shown (its last row visible: the whole path: page, app start, `GET
// /api/deployments` of all N answered from the controller's caches, sort, render), and the
// server's answer to `GET /api/deployments` alone.
// Runs after the fleet case's change timings, so it disturbs none of the other figures.

import { existsSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { createUiIdentities } from "../../src/ui/server/identities.js";
import { PAGE_SIZE } from "../../src/ui/web/paging.js";
import { LIST_SHOWN_MARK } from "../../src/ui/web/marks.js";
import { buildUi, CHROMIUM_PATH, launchChromium, listShownAt, newContext, signInWithLink, timeUntilVisible } from "../support/browser.js";
import type { BenchFigure } from "./types.js";

const RUNS = 7;
const API_RUNS = 21;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** The last row of the list's first page: it sorts by namespace, then name, and shows PAGE_SIZE rows a page. */
export function firstPageLastRow(docs: readonly ApplicationDeployment[]): string {
  const keys = docs.map((d) => [d.metadata.namespace ?? "default", d.metadata.name] as const);
  keys.sort(([na, a], [nb, b]) => na.localeCompare(nb) || a.localeCompare(b));
  const [namespace, name] = keys[Math.min(keys.length, PAGE_SIZE) - 1] ?? ["", ""];
  return `deployment-row-${namespace}-${name}`;
}

export async function uiOnFleet(o: {
  hub: KubeConfig;
  uiPort: number | undefined;
  docs: readonly ApplicationDeployment[];
  tag: string;
  say: (line: string) => void;
}): Promise<BenchFigure[]> {
  if (o.uiPort === undefined) throw new Error("bench: the controller serves no web UI (uiPort unset)");
  if (!existsSync(CHROMIUM_PATH)) {
    o.say(`web UI not measured: ${CHROMIUM_PATH} is missing (bash scripts/install-control-plane.sh installs it)`);
    return [];
  }
  buildUi();
  const url = `http://127.0.0.1:${o.uiPort}`;
  const viewer = (await createUiIdentities(o.hub)).find((i) => i.role === "viewer");
  if (!viewer) throw new Error("bench: no viewer identity on the hub");
  const n = o.docs.length;
  const scaled = n.toLocaleString("en");

  // The server alone: the list as the app requests it, with the viewer's token.
  const apiMs: number[] = [];
  let listed = 0;
  for (let i = 0; i <= API_RUNS; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/api/deployments`, { headers: { authorization: `Bearer ${viewer.token}` } });
    const body = (await res.json()) as { items?: unknown[] };
    if (!res.ok) throw new Error(`bench: GET /api/deployments answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    listed = body.items?.length ?? 0;
    if (i > 0) apiMs.push(performance.now() - started); // the first fills the review cache
  }
  if (listed !== n) throw new Error(`bench: GET /api/deployments listed ${listed} deployments, expected ${n}`);

  const browser = await launchChromium();
  try {
    const page = await (await newContext(browser)).newPage();
    await signInWithLink(page, url, viewer.token);
    const last = firstPageLastRow(o.docs);
    await timeUntilVisible(page, `${url}/#/deployments`, last); // warm-up: browser caches, JIT
    const observed: number[] = [];
    const shown: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      observed.push(await timeUntilVisible(page, `${url}/#/deployments`, last));
      shown.push(await listShownAt(page));
    }
    const load = median(shown);
    const api = median(apiMs);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
    o.say(
      `web UI: the list of ${scaled} in Chromium median ${load.toFixed(0)} ms by the page's clock (runs ${runs(shown)}), ${median(observed).toFixed(0)} ms as Playwright saw it (runs ${runs(observed)}); GET /api/deployments median ${api.toFixed(1)} ms`,
    );
    return [
      {
        name: `${o.tag}: web UI deployments list of ${scaled} in Chromium, real controller (navigation → first page shown)`,
        value: load,
        unit: "ms",
        how: `median of ${RUNS} full page loads (from about:blank) after one warm-up: the page's User Timing mark ${LIST_SHOWN_MARK} (set in the frame that paints the list's first page of ${PAGE_SIZE} rows, ms from navigation start), signed in as the viewer ServiceAccount (TokenReview + SubjectAccessReview, cached 10 s), served by the controller that brought the ${scaled} deployments to Healthy; headless Chromium ${CHROMIUM_PATH}; runs ${runs(shown)} ms`,
        ...(n >= 1000 ? { target: "<= 1000 ms", met: load <= 1000 } : {}),
      },
      {
        name: `${o.tag}: web UI deployments list of ${scaled}, as the test driver saw it`,
        value: median(observed),
        unit: "ms",
        how: `the same loads timed from this process: page.goto → the first page's last row visible (Playwright's polling and protocol round trips included; this process also runs the controller); runs ${runs(observed)} ms`,
      },
      {
        name: `${o.tag}: web UI GET /api/deployments of ${scaled}, real controller`,
        value: api,
        unit: "ms",
        how: `median of ${API_RUNS} requests from this process (fetch, the viewer's token, after one that fills the review cache) until the JSON body is parsed`,
      },
    ];
  } finally {
    await browser.close();
  }
}
