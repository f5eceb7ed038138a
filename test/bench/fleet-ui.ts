// The web UI on the bench's fleet: the controller that just brought N deployments to Healthy
// serves its UI (as `flotilla controller` does by default), and Debian's Chromium, signed in as
// the local fleet's viewer identity (a real ServiceAccount token: every request is checked with a
// TokenReview and a SubjectAccessReview), loads the deployments list. Measured: navigation → the
// list's first page shown (its last row visible: the whole path: page, app start, `GET
// /api/deployments` of all N answered from the controller's caches, sort, render), when the page
// had the list's answer (resource timing: what is left after it is the browser's own work), and
// the server's answer to `GET /api/deployments` alone. The loads run twice: with the member
// clusters' processes as they are, and with them at nice 19 (member-priority.ts), since on this
// machine the members share the cores that the hub, the controller and the user's browser have
// to themselves in production.
// Runs after the fleet case's change timings, so it disturbs none of the other figures.

import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ApplicationDeployment } from "../../src/api/types.js";
import type { FleetInfo } from "../../src/fleet/index.js";
import { createUiIdentities } from "../../src/ui/server/identities.js";
import { PAGE_SIZE } from "../../src/ui/web/paging.js";
import { LIST_SHOWN_MARK } from "../../src/ui/web/marks.js";
import { buildUi, CHROMIUM_PATH, launchChromium, listAnsweredAt, listShownAt, newContext, signInWithLink, timeUntilVisible } from "../support/browser.js";
import { memberProcessIds, withLowPriority } from "./member-priority.js";
import type { BenchFigure } from "./types.js";

const RUNS = 7;
const API_RUNS = 21;

interface ListLoad {
  /** The page's mark of the list's first showing, ms from navigation start. */
  shown: number;
  /** From page.goto to the last row visible, timed by this process. */
  observed: number;
  /** When the page had the whole answer of GET /api/deployments, ms from navigation start. */
  answered: number;
}

interface LoadSeries {
  loads: ListLoad[];
  loadAverage: number;
}

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
  /** The running fleet: its member processes are lowered for the second series. */
  fleet: FleetInfo;
  /** Other member-side processes (pull mode's agents). */
  memberPids: readonly number[];
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
    const series = async (): Promise<LoadSeries> => {
      const loadAverage = loadavg()[0] ?? Number.NaN;
      const loads: ListLoad[] = [];
      for (let i = 0; i < RUNS; i++) {
        const observed = await timeUntilVisible(page, `${url}/#/deployments`, last);
        loads.push({ observed, shown: await listShownAt(page), answered: await listAnsweredAt(page) });
      }
      return { loads, loadAverage };
    };
    const asIs = await series();
    const pids = memberProcessIds(o.fleet, o.memberPids);
    const { result: lowered, threads } = await withLowPriority(pids, series);
    const api = median(apiMs);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
    const describe = (s: LoadSeries) =>
      `median ${median(s.loads.map((l) => l.shown)).toFixed(0)} ms by the page's clock (runs ${runs(s.loads.map((l) => l.shown))}; the list's answer in by ${median(s.loads.map((l) => l.answered)).toFixed(0)} ms), ${median(s.loads.map((l) => l.observed)).toFixed(0)} ms as Playwright saw it; load average ${s.loadAverage.toFixed(1)}`;
    o.say(`web UI: the list of ${scaled} in Chromium, members as they are: ${describe(asIs)}`);
    o.say(`web UI: the same with the members' ${pids.length} processes (${threads} threads) at nice 19: ${describe(lowered)}`);
    o.say(`web UI: GET /api/deployments median ${api.toFixed(1)} ms`);
    const how = (s: LoadSeries, setting: string) =>
      `median of ${RUNS} full page loads (from about:blank) after one warm-up, ${setting}: the page's User Timing mark ${LIST_SHOWN_MARK} (set in the frame that paints the list's first page of ${PAGE_SIZE} rows, ms from navigation start), signed in as the viewer ServiceAccount (TokenReview + SubjectAccessReview, cached 10 s), served by the controller that brought the ${scaled} deployments to Healthy; headless Chromium ${CHROMIUM_PATH}; runs ${runs(s.loads.map((l) => l.shown))} ms; GET /api/deployments fully received at ${runs(s.loads.map((l) => l.answered))} ms (resource timing); 1-minute load average ${s.loadAverage.toFixed(1)}`;
    const target = (value: number) => (n >= 1000 ? { target: "<= 1000 ms", met: value <= 1000 } : {});
    const shownAsIs = median(asIs.loads.map((l) => l.shown));
    const shownLowered = median(lowered.loads.map((l) => l.shown));
    return [
      {
        name: `${o.tag}: web UI deployments list of ${scaled} in Chromium, real controller (navigation → first page shown)`,
        value: shownAsIs,
        unit: "ms",
        how: how(asIs, "the member clusters' processes as they are (sharing the two cores with the hub, the controller and the browser)"),
        ...target(shownAsIs),
      },
      {
        name: `${o.tag}: web UI deployments list of ${scaled} in Chromium, real controller, member clusters at nice 19`,
        value: shownLowered,
        unit: "ms",
        how: how(
          lowered,
          `every thread of the members' API servers, controller managers and node simulators (${pids.length} processes, ${threads} threads) at nice 19 for these loads only, as members on machines of their own would leave the hub's cores to the hub, the controller and the user's browser; the hub's API server and etcd unchanged`,
        ),
        ...target(shownLowered),
      },
      {
        name: `${o.tag}: web UI deployments list of ${scaled}, as the test driver saw it`,
        value: median(asIs.loads.map((l) => l.observed)),
        unit: "ms",
        how: `the first series' loads timed from this process: page.goto → the first page's last row visible (Playwright's polling and protocol round trips included; this process also runs the controller); runs ${runs(asIs.loads.map((l) => l.observed))} ms`,
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
