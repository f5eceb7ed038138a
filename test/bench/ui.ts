// The web UI's deployments list with 1,000 deployments, in Debian's Chromium against the API mock
// (test/support/ui-mock-api.ts): how long from navigation until the first page of 100 rows is
// visible (a full page load, the app's start, the list request of all 1,000, the sort and the
// render), and how long an SSE event takes to repaint its row. The mock answers from memory, so the figures are the browser
// side's; the UI server's own cost comes on top with a real controller.

import { existsSync } from "node:fs";
import { buildUi, CHROMIUM_PATH, launchChromium, listShownAt, newContext, signInWithLink, timeUntilVisible } from "../support/browser.js";
import { OPERATOR, startUiMock } from "../support/ui-mock-api.js";
import type { BenchCase, BenchFigure } from "./types.js";

const RUNS = 7;
const EVENTS = 15;
/** The last row of the first page (shop's canary, then team-00's 99). */
const FIRST_PAGE_LAST_ROW = "deployment-row-team-00-app-0990";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export const uiBench: BenchCase = {
  group: "ui",
  async run(): Promise<BenchFigure[]> {
    if (!existsSync(CHROMIUM_PATH)) {
      process.stdout.write(`  skipped: ${CHROMIUM_PATH} is missing (bash scripts/install-control-plane.sh installs it)\n`);
      return [];
    }
    buildUi();
    const mock = await startUiMock({ extraDeployments: 999 });
    const browser = await launchChromium();
    try {
      const context = await newContext(browser);
      const page = await context.newPage();
      await signInWithLink(page, mock.url, OPERATOR.token);
      await timeUntilVisible(page, `${mock.url}/#/deployments`, FIRST_PAGE_LAST_ROW); // warm-up: browser caches, JIT
      const loads: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await timeUntilVisible(page, `${mock.url}/#/deployments`, FIRST_PAGE_LAST_ROW);
        loads.push(await listShownAt(page));
      }

      await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
      const updates: number[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const phase = i % 2 === 0 ? "Failed" : "Progressing";
        const row = page.getByTestId("deployment-row-team-00-app-0030").getByTestId("phase");
        const started = performance.now();
        mock.setPhase("team-00", "app-0030", phase);
        await row.filter({ hasText: phase }).waitFor();
        updates.push(performance.now() - started);
      }
      const load = median(loads);
      return [
        {
          name: "ui: deployments list of 1,000 in Chromium (navigation → first page of 100 shown)",
          value: load,
          unit: "ms",
          how: `median of ${RUNS} full page loads (from about:blank, signed in) against the in-memory API mock, after one warm-up, by the page's User Timing mark of the list's first showing (ms from navigation start); headless Chromium ${CHROMIUM_PATH}`,
          target: "<= 1000 ms",
          met: load <= 1000,
        },
        {
          name: "ui: SSE event → its row repainted, 1,000 rows listed",
          value: median(updates),
          unit: "ms",
          how: `median of ${EVENTS} phase changes pushed by the mock's event stream, timed until the row shows the new phase (includes the app's 50 ms event batching and Playwright's polling)`,
        },
      ];
    } finally {
      await browser.close();
      await mock.close();
    }
  },
};
