// The arguments of `flotilla cluster add` and `flotilla up --member`, checked as the API server
// would check them, so a typo fails on the command line and not halfway through a registration.

import { homedir } from "node:os";
import { join } from "node:path";
import { FlotillaError } from "../api/errors.js";
import { GIT_SERVE_PATH, PULL_CLUSTER_NAME_MAX, PULL_NAMESPACE_PREFIX } from "../api/pull.js";
import { DNS_LABEL_PATTERN } from "../api/schemas.js";

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `k=v` as a label, checked as the API server checks it, so a typo fails here and not on the hub. */
export function parseLabel(text: string, option = "--label"): [string, string] {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (value === undefined) throw new FlotillaError(`${option}: "${text}" is not key=value (e.g. usage=production).`);
  if (!LABEL_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix)))) {
    throw new FlotillaError(
      `${option}: "${key}" is not a valid label key (up to 63 letters, digits, '-', '_', '.', optionally prefixed by a DNS name and '/').`,
    );
  }
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw new FlotillaError(
      `${option}: "${value}" is not a valid label value for ${key} (up to 63 letters, digits, '-', '_', '.', alphanumeric at both ends).`,
    );
  }
  return [key, value];
}

export function parseNamespaces(text: string): string[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new FlotillaError("--namespaces: give at least one namespace (e.g. --namespaces team-a,team-b).");
  const bad = names.filter((n) => n.length > 63 || !new RegExp(DNS_LABEL_PATTERN).test(n));
  if (bad.length)
    throw new FlotillaError(`--namespaces: ${bad.join(", ")} ${bad.length === 1 ? "is not a" : "are not"} valid namespace name${bad.length === 1 ? "" : "s"}.`);
  return names;
}

export function checkClusterName(name: string): void {
  if (name.length > 63 || !new RegExp(DNS_LABEL_PATTERN).test(name)) {
    throw new FlotillaError(`cluster name "${name}" must be a DNS label: lowercase letters, digits and '-', at most 63 characters (e.g. prod-eu).`);
  }
}

/** A pull cluster's name: a DNS label short enough that its hub namespace flotilla-cluster-<name> is one too. */
export function checkPullClusterName(name: string): void {
  checkClusterName(name);
  if (name.length > PULL_CLUSTER_NAME_MAX) {
    throw new FlotillaError(
      `cluster name "${name}" has ${name.length} characters; a pull cluster's name may have at most ${PULL_CLUSTER_NAME_MAX}, ` +
        `so that its hub namespace ${PULL_NAMESPACE_PREFIX}<name> stays within 63. Choose a shorter name.`,
    );
  }
}

/** The options of `cluster add` as commander hands them over (all strings, all optional). */
export interface AddClusterFlags {
  mode?: string;
  kubeconfig?: string;
  namespaces?: string;
  server?: string;
  gitUrl?: string;
  hubServer?: string;
  image?: string;
}

/** `cluster add`'s mode and the options that belong to it, checked before anything is created. */
export type AddClusterArgs =
  | { mode: "Push"; kubeconfig: string; namespaces?: string[]; server?: string }
  | { mode: "Pull"; gitUrl: string; kubeconfig?: string; hubServer?: string; image?: string };

const GIT_URL_HINT =
  `the URL the agent fetches the environment repository from: the controller's Git server, http(s)://<hub-controller-address>:8082${GIT_SERVE_PATH} ` +
  "(its --git-serve-addr, reachable from the member), or the team's Git remote (https://…)";

function httpUrl(text: string, option: string, what: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.host) {
    throw new FlotillaError(`${option}: "${text}" is not an http:// or https:// URL; give ${what}.`);
  }
  return text;
}

/**
 * The mode (`--mode push|pull`, default push) and its options. Push needs the member's
 * --kubeconfig (the hub will reach the member); pull needs --git-url (the member will reach Git) and
 * refuses the options that only mean something when the hub reaches the member.
 */
export function parseAddClusterArgs(name: string, flags: AddClusterFlags): AddClusterArgs {
  const mode = (flags.mode ?? "push").toLowerCase();
  if (mode !== "push" && mode !== "pull") throw new FlotillaError(`--mode: "${flags.mode}" is neither push nor pull (e.g. --mode pull).`);
  if (mode === "push") {
    checkClusterName(name);
    for (const [option, value] of [
      ["--git-url", flags.gitUrl],
      ["--hub-server", flags.hubServer],
      ["--image", flags.image],
    ] as const) {
      if (value !== undefined) throw new FlotillaError(`${option}: only with --mode pull (it configures the member's agent); drop it, or add --mode pull.`);
    }
    if (!flags.kubeconfig) {
      throw new FlotillaError(
        "--kubeconfig: required in push mode: the MEMBER's kubeconfig, with rights to create a namespace, a ServiceAccount and RBAC there. " +
          "Or add --mode pull to install an agent in the member instead.",
      );
    }
    const namespaces = flags.namespaces === undefined ? undefined : parseNamespaces(flags.namespaces);
    return { mode: "Push", kubeconfig: flags.kubeconfig, ...(namespaces ? { namespaces } : {}), ...(flags.server ? { server: flags.server } : {}) };
  }
  checkPullClusterName(name);
  if (flags.namespaces !== undefined) {
    throw new FlotillaError(
      "--namespaces: only in push mode; in pull mode the agent gets deploy/agent's cluster-wide sync rights on its member. Drop --namespaces (or register the member in push mode).",
    );
  }
  if (flags.server !== undefined) {
    throw new FlotillaError(
      "--server: the member's API server as the hub reaches it, which pull mode never does. Drop it; --hub-server sets the hub's API server as the agent reaches it.",
    );
  }
  if (!flags.gitUrl) throw new FlotillaError(`--git-url: required with --mode pull: ${GIT_URL_HINT}.`);
  return {
    mode: "Pull",
    gitUrl: httpUrl(flags.gitUrl, "--git-url", GIT_URL_HINT),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.hubServer
      ? { hubServer: httpUrl(flags.hubServer, "--hub-server", "the hub's API server as the agent reaches it, e.g. https://hub.example.com:6443") }
      : {}),
    ...(flags.image ? { image: flags.image } : {}),
  };
}

/** One `--member` of `flotilla up`: a cluster to register, how to reach it, its labels. */
export interface MemberSpec {
  name: string;
  kubeconfig: string;
  context?: string;
  labels: Record<string, string>;
}

/** The labels a member gets when `--member` names none: what the quick start's placement selects. */
export const DEFAULT_MEMBER_LABELS: Readonly<Record<string, string>> = { usage: "production" };

/**
 * `NAME=KUBECONFIG[,context=CTX][,key=value...]`: the cluster's name, the kubeconfig file of the
 * member (admin rights there, as for `cluster add`), optionally its context (kind and k3d keep
 * every cluster in one file), then its labels; `usage=production` when no label is given.
 */
export function parseMemberSpec(text: string): MemberSpec {
  const usage = "use NAME=KUBECONFIG[,context=CTX][,key=value...], e.g. --member eu=$HOME/.kube/config,context=kind-eu,region=eu";
  const [head = "", ...rest] = text.split(",");
  const eq = head.indexOf("=");
  if (eq <= 0 || eq === head.length - 1) throw new FlotillaError(`--member: "${text}" does not name a cluster and its kubeconfig; ${usage}.`);
  const name = head.slice(0, eq);
  checkClusterName(name);
  let context: string | undefined;
  const labels: Record<string, string> = {};
  for (const part of rest) {
    if (part.startsWith("context=")) {
      context = part.slice("context=".length);
      if (!context) throw new FlotillaError(`--member ${name}: context= is empty; ${usage}.`);
      continue;
    }
    const [key, value] = parseLabel(part, `--member ${name}`);
    labels[key] = value;
  }
  // The shell leaves `~` alone after `eu=`: expand it as the user meant it.
  const file = head.slice(eq + 1);
  return {
    name,
    kubeconfig: file.startsWith("~/") ? join(homedir(), file.slice(2)) : file,
    ...(context ? { context } : {}),
    labels: Object.keys(labels).length ? labels : { ...DEFAULT_MEMBER_LABELS },
  };
}

/** Where `up` runs: the hub (a kubeconfig and its context) and the members as the user named them. */
export interface OwnClusters {
  hubKubeconfig?: string;
  hubContext?: string;
  members: MemberSpec[];
}

/** The user's own clusters when `--hub-*` or `--member` is given, else undefined (the local fleet). */
export function ownClustersOf(opts: { hubKubeconfig?: string; hubContext?: string; member: readonly string[] }): OwnClusters | undefined {
  if (!opts.hubKubeconfig && !opts.hubContext && opts.member.length === 0) return undefined;
  // Never fall back to the current context: installing CRDs on whatever kubectl points at is
  // not something to do by accident.
  if (!opts.hubKubeconfig && !opts.hubContext) {
    throw new FlotillaError("--member needs the hub too: pass --hub-kubeconfig FILE and/or --hub-context NAME (the cluster that gets the CRDs).");
  }
  if (opts.member.length === 0) {
    throw new FlotillaError("--hub-kubeconfig: name at least one member to deliver to, --member NAME=KUBECONFIG[,key=value...] (the hub may be one too).");
  }
  const members = opts.member.map(parseMemberSpec);
  const names = members.map((m) => m.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) throw new FlotillaError(`--member: ${[...new Set(twice)].join(", ")} given more than once; each member needs its own name.`);
  return { ...(opts.hubKubeconfig ? { hubKubeconfig: opts.hubKubeconfig } : {}), ...(opts.hubContext ? { hubContext: opts.hubContext } : {}), members };
}
