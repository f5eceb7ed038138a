// deploy/monitoring as Prometheus, Grafana and kustomize read it: the alert rules pass
// `promtool check rules` and fire (or stay quiet) as monitoring.promtool.yaml expects, every
// metric an alert or a dashboard panel reads is one the controller registers, every alert has a
// runbook in docs/operations.md, and `kubectl kustomize` builds it alone and beside deploy/.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ControllerMetrics } from "../../../src/controller/metrics.js";
import { KUBECTL } from "./kubectl.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const DEPLOY = join(ROOT, "deploy");
const MONITORING = join(DEPLOY, "monitoring");
const OPERATIONS_DOC = join(ROOT, "docs", "operations.md");
const PROMTOOL_TESTS = join(import.meta.dirname, "monitoring.promtool.yaml");
const NAMESPACE = "flotilla-system";
/** How every panel names its data source: the dashboard's `datasource` variable. */
const DATASOURCE_VARIABLE = "$" + "{datasource}";

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Target {
  expr?: string;
}
interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: { type: string; uid: string };
  targets?: (Target & { datasource?: { uid: string } })[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { type: string; name: string; query: string | { query: string } }[] };
}

const ruleManifest = yaml.load(readFileSync(join(MONITORING, "prometheusrule.yaml"), "utf8")) as Manifest;
const groups = (ruleManifest.spec as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const dashboardText = readFileSync(join(MONITORING, "flotilla-dashboard.json"), "utf8");
const dashboard = JSON.parse(dashboardText) as Dashboard;

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-monitoring-"));
  temps.push(dir);
  return dir;
}

function run(command: string, args: string[], cwd = ROOT): { status: number | null; out: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  expect(result.error, `${command} not found: run scripts/install-control-plane.sh`).toBeUndefined();
  return { status: result.status, out: result.stdout, stderr: result.stderr };
}

const PROMQL_KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);

/**
 * The metric names a PromQL expression (or a Grafana panel's) selects: every identifier left once
 * strings, Grafana variables, label matchers, ranges and label lists are taken out, that is not
 * a function or aggregation (followed by a parenthesis), a keyword or part of a number.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{\w+(?::\w+)?\}|\$\w+/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    const rest = bare.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(rest) || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** The metric names of a Grafana template variable's query (`label_values(METRIC, label)`, `query_result(EXPR)`). */
function variableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\((.*),\s*\w+\s*\)\s*$/.exec(query);
  if (labelValues) return metricNames(labelValues[1] ?? "");
  if (/^\s*label_values\(\s*\w+\s*\)\s*$/.test(query)) return [];
  const queryResult = /^\s*query_result\((.*)\)\s*$/.exec(query);
  return metricNames(queryResult ? (queryResult[1] ?? "") : query);
}

/** Every panel, rows opened. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** The families of a scrape of a fresh ControllerMetrics registry, with their types. */
async function registeredFamilies(): Promise<Map<string, string>> {
  const text = await new ControllerMetrics().registry.metrics();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]));
}

/** Series Prometheus adds itself for every target, which a query may read next to the controller's. */
const SCRAPE_SERIES = new Set(["up"]);

/** Names a query uses that no registered family exports (histograms and summaries export _bucket, _sum, _count). */
function unknownNames(names: Iterable<string>, families: Map<string, string>): string[] {
  const known = (name: string): boolean => {
    if (SCRAPE_SERIES.has(name) || families.has(name)) return true;
    const suffix = /^(.+)_(bucket|sum|count)$/.exec(name);
    const type = suffix ? families.get(suffix[1] ?? "") : undefined;
    return type === "histogram" ? true : type === "summary" ? suffix?.[2] !== "bucket" : false;
  };
  return [...new Set(names)].filter((n) => !known(n)).sort();
}

function durationSeconds(d: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const m of d.matchAll(/(\d+)([smhd])/g)) total += Number(m[1]) * (units[m[2] ?? ""] ?? 0);
  return total;
}

/** GitHub's anchor for a Markdown heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");
}

function parseStream(text: string): Manifest[] {
  return yaml.loadAll(text).filter((d): d is Manifest => typeof d === "object" && d !== null);
}

/** What `kubectl kustomize` of deploy/monitoring must hold, whichever way it is built. */
function expectMonitoringObjects(objects: Manifest[]): void {
  const find = (kind: string) => objects.find((o) => o.kind === kind && o.metadata.namespace === NAMESPACE);
  const monitor = find("ServiceMonitor");
  expect(monitor?.apiVersion).toBe("monitoring.coreos.com/v1");
  const rule = find("PrometheusRule");
  expect(rule?.spec).toEqual(ruleManifest.spec);
  const dashboards = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
  expect(dashboards.map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).toEqual([`${NAMESPACE}/flotilla-dashboard`]);
  expect(JSON.parse(dashboards[0]?.data?.["flotilla-dashboard.json"] ?? "null")).toEqual(dashboard);
}

describe("the PromQL metric name extractor", () => {
  it.each([
    ['sum by (cluster) (rate(flotilla_sync_total{job="x",result="failed"}[10m])) > 0', ["flotilla_sync_total"]],
    [
      "histogram_quantile(0.99, sum by (le) (rate(flotilla_reconcile_duration_seconds_bucket[$__rate_interval])))",
      ["flotilla_reconcile_duration_seconds_bucket"],
    ],
    ['a_metric == 1 and on (instance) b_metric{phase=~"Degraded|Failed"} == 1', ["a_metric", "b_metric"]],
    ["sum(x_total) without (pod) / ignoring(result) group_left(le) y_total offset 5m", ["x_total", "y_total"]],
    ['count(flotilla_deployment_info{name="by (phase) and"}) or vector(0)', ["flotilla_deployment_info"]],
    ['absent(up{job="flotilla-controller"} == 1) * 1e3', ["up"]],
  ])("finds the metrics of %s", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it("reads the metric of a Grafana label_values variable, not its label", () => {
    expect(variableMetricNames('label_values(flotilla_cluster_ready{job="j"}, cluster)')).toEqual(["flotilla_cluster_ready"]);
    expect(variableMetricNames("label_values(cluster)")).toEqual([]);
  });

  it("tells a misspelt metric, and a histogram suffix on a gauge, from real ones", async () => {
    const families = await registeredFamilies();
    expect(
      unknownNames(
        ["flotilla_reconcile_totl", "flotilla_queue_depth_bucket", "flotilla_reconcile_duration_seconds_bucket", "process_cpu_seconds_total", "up"],
        families,
      ),
    ).toEqual(["flotilla_queue_depth_bucket", "flotilla_reconcile_totl"]);
  });
});

describe("deploy/monitoring alert rules", () => {
  it("pass promtool check rules", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "flotilla-rules.yaml"), yaml.dump({ groups }));
    const check = run("promtool", ["check", "rules", join(dir, "flotilla-rules.yaml")]);
    expect({ status: check.status, output: `${check.out}${check.stderr}`.trim() }).toEqual({
      status: 0,
      output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
    });
  });

  it("fire and stay quiet as monitoring.promtool.yaml expects", { timeout: 60_000 }, () => {
    const dir = tempDir();
    writeFileSync(join(dir, "flotilla-rules.yaml"), yaml.dump({ groups }));
    copyFileSync(PROMTOOL_TESTS, join(dir, "tests.yaml"));
    const test = run("promtool", ["test", "rules", "tests.yaml"], dir);
    expect({ status: test.status, output: `${test.out}${test.stderr}`.trim() }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
  });

  it("have a test in monitoring.promtool.yaml in which each alert fires", () => {
    type AlertTest = { alertname: string; exp_alerts?: unknown[] };
    const file = yaml.load(readFileSync(PROMTOOL_TESTS, "utf8")) as { tests: { alert_rule_test?: AlertTest[] }[] };
    const fired = new Set(file.tests.flatMap((t) => t.alert_rule_test ?? []).flatMap((a) => (a.exp_alerts?.length ? [a.alertname] : [])));
    expect(rules.map((r) => r.alert).filter((a) => a !== undefined && !fired.has(a))).toEqual([]);
  });

  it("are alerts with a severity, a summary, a description, a runbook in docs/operations.md and a for: of 5 minutes or more", () => {
    const doc = readFileSync(OPERATIONS_DOC, "utf8");
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? "")));
    const problems = rules.flatMap((r) => {
      const name = r.alert ?? r.record ?? "?";
      const anchor = /^docs\/operations\.md#(.+)$/.exec(r.annotations?.runbook_url ?? "")?.[1];
      return [
        r.alert ? [] : [`${name}: not an alert`],
        ["critical", "warning", "info"].includes(r.labels?.severity ?? "") ? [] : [`${name}: severity ${r.labels?.severity}`],
        r.annotations?.summary ? [] : [`${name}: no summary`],
        r.annotations?.description ? [] : [`${name}: no description`],
        anchor === name.toLowerCase() ? [] : [`${name}: runbook_url ${r.annotations?.runbook_url} is not docs/operations.md#${name.toLowerCase()}`],
        anchor && anchors.has(anchor) ? [] : [`${name}: docs/operations.md has no heading for #${anchor}`],
        doc.includes(`| [\`${name}\`](#${name.toLowerCase()}) |`) ? [] : [`${name}: not in the alerts table of docs/operations.md`],
        durationSeconds(r.for ?? "") >= 300 ? [] : [`${name}: for: ${r.for}`],
      ].flat();
    });
    expect(problems).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(10);
  });

  it("read only metrics the controller registers", async () => {
    const used = rules.flatMap((r) => metricNames(r.expr));
    expect(used).toEqual(expect.arrayContaining(["up", "flotilla_leader", "flotilla_deployment_info", "flotilla_reconcile_duration_seconds_bucket"]));
    expect(unknownNames(used, await registeredFamilies())).toEqual([]);
  });
});

describe("deploy/monitoring dashboard", () => {
  const panels = allPanels(dashboard.panels).filter((p) => p.type !== "row");
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));

  it("reads only metrics the controller registers, in panels and in template variables", async () => {
    const variableQueries = dashboard.templating.list.filter((v) => v.type === "query").map((v) => (typeof v.query === "string" ? v.query : v.query.query));
    const used = [...exprs.flatMap(metricNames), ...variableQueries.flatMap(variableMetricNames)];
    expect(unknownNames(used, await registeredFamilies())).toEqual([]);
  });

  it("shows deployments by phase, rollout steps, reconciles, clusters, Git push failures and the process", () => {
    const used = new Set(exprs.flatMap(metricNames));
    for (const name of [
      "flotilla_deployment_info",
      "flotilla_rollout_steps_total",
      "flotilla_reconcile_total",
      "flotilla_reconcile_duration_seconds_bucket",
      "flotilla_cluster_ready",
      "flotilla_cluster_last_sync_age_seconds",
      "flotilla_git_push_failures_total",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ])
      expect(used, name).toContain(name);
  });

  it("queries the data source chosen in its datasource variable, from every panel and target", () => {
    const variable = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(variable).toMatchObject({ type: "datasource", query: "prometheus" });
    const elsewhere = panels.flatMap((p) => [
      ...(p.datasource?.uid === DATASOURCE_VARIABLE ? [] : [`${p.title}: ${JSON.stringify(p.datasource)}`]),
      ...(p.targets ?? []).filter((t) => t.datasource?.uid !== DATASOURCE_VARIABLE).map((t) => `${p.title}: target ${JSON.stringify(t.datasource)}`),
    ]);
    expect(elsewhere).toEqual([]);
    expect(exprs.every((e) => e.trim() !== "")).toBe(true);
    const ids = allPanels(dashboard.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("kubectl kustomize", () => {
  it("builds deploy/monitoring: the ServiceMonitor, the PrometheusRule and the dashboard ConfigMap", () => {
    const built = run(KUBECTL, ["kustomize", MONITORING]);
    expect(built.status, built.stderr).toBe(0);
    const objects = parseStream(built.out);
    expect(objects.map((o) => o.kind).sort()).toEqual(["ConfigMap", "PrometheusRule", "ServiceMonitor"]);
    expectMonitoringObjects(objects);
  });

  it("builds deploy and deploy/monitoring side by side, and the ServiceMonitor selects the controller's metrics Service", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "kustomization.yaml"), yaml.dump({ bases: [relative(dir, DEPLOY), relative(dir, MONITORING)] }));
    const built = run(KUBECTL, ["kustomize", dir]);
    expect(built.status, built.stderr).toBe(0);
    const objects = parseStream(built.out);
    expectMonitoringObjects(objects);

    type ServiceMonitorSpec = {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: { port: string }[];
    };
    type ServiceSpec = { selector?: Record<string, string>; ports?: { name?: string; targetPort?: string | number }[] };
    type DeploymentSpec = {
      template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] } };
    };
    const monitor = objects.find((o) => o.kind === "ServiceMonitor")?.spec as ServiceMonitorSpec;
    const matches = (labels: Record<string, string> | undefined, wanted: Record<string, string>) => Object.entries(wanted).every(([k, v]) => labels?.[k] === v);
    const services = objects.filter(
      (o) =>
        o.kind === "Service" &&
        monitor.namespaceSelector.matchNames.includes(o.metadata.namespace ?? "") &&
        matches(o.metadata.labels, monitor.selector.matchLabels) &&
        (o.spec as ServiceSpec).ports?.some((p) => monitor.endpoints.some((e) => e.port === p.name)),
    );
    expect(
      services.map((s) => s.metadata.name),
      "a Service labelled like the ServiceMonitor's selector, with a port named metrics",
    ).toHaveLength(1);
    const service = services[0]?.spec as ServiceSpec;
    const controller = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "flotilla-controller")?.spec as DeploymentSpec;
    expect(matches(controller.template.metadata.labels, service.selector ?? {}), "the Service selects the controller's Pods").toBe(true);
    const targetPort = service.ports?.find((p) => p.name === "metrics")?.targetPort;
    const containerPorts = controller.template.spec.containers.flatMap((c) => c.ports ?? []);
    expect(containerPorts.find((p) => p.name === targetPort || p.containerPort === targetPort)?.containerPort).toBe(8080);
  });
});
