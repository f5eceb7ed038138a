// Which top-level commands exist, what each says in `flotilla --help`, and which module registers
// it. main.ts loads only the module of the command being run: the others (the Kubernetes client
// among them) are never imported, so `flotilla --help` and `flotilla version` start at once.

import type { Command } from "commander";

export interface CommandGroup {
  /** Top-level commands the module registers, with their usage as `--help` lists them. */
  commands: Array<{ usage: string; summary: string }>;
  /** The module's register function. */
  load(): Promise<(program: Command) => void>;
  /** Running it needs every command registered. */
  loadsAll?: boolean;
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    commands: [
      { usage: "render", summary: "print the manifests of the fully rolled-out target revision, per selected cluster" },
      { usage: "validate", summary: "check deployments, definitions and clusters; exit 1 listing every problem" },
    ],
    load: async () => (await import("./render.js")).registerRenderCommands,
  },
  {
    commands: [{ usage: "definitions", summary: "list the component types and traits, or show one's parameters, defaults and example" }],
    load: async () => (await import("./definitions.js")).registerDefinitionsCommands,
  },
  {
    commands: [{ usage: "fleet", summary: "run a local fleet: a hub and member clusters (real API servers on 127.0.0.1)" }],
    load: async () => (await import("./fleet.js")).registerFleetCommand,
  },
  {
    commands: [
      { usage: "controller", summary: "run the controller against a hub: watch, render, commit, sync, report status" },
      {
        usage: "install",
        summary: "put Flotilla on a hub: the deploy/ bundle (or only the CRDs) and the built-in definitions (server-side apply; safe to repeat)",
      },
    ],
    load: async () => (await import("./controller.js")).registerControllerCommands,
  },
  {
    commands: [{ usage: "agent", summary: "the pull-mode agent: keep one member cluster at its folder of the environment repository and report to the hub" }],
    load: async () => (await import("./agent.js")).registerAgentCommand,
  },
  {
    commands: [
      { usage: "up", summary: "the whole story on a local fleet: fleet, install, controller, the quickstart, live progress" },
      { usage: "down", summary: "stop what `flotilla up --detach` started" },
    ],
    load: async () => (await import("./up.js")).registerUpCommands,
  },
  {
    commands: [
      { usage: "rollout", summary: "control a deployment's rollout (the same as annotating it with kubectl)" },
      { usage: "status [name]", summary: "a deployment's phase, clusters, replicas per revision and rollout progress; without a name, the list" },
    ],
    load: async () => (await import("./rollout.js")).registerRolloutCommands,
  },
  {
    commands: [
      {
        usage: "diff",
        summary: "what applying deployment files would change: the spec on the hub, each cluster's files in the environment repository, the live objects",
      },
    ],
    load: async () => (await import("./diff.js")).registerDiffCommand,
  },
  {
    commands: [
      {
        usage: "history <name>",
        summary: "a deployment's steps from the environment repository, newest first: revision, wave, batch, clusters, source commit",
      },
    ],
    load: async () => (await import("./history.js")).registerHistoryCommand,
  },
  {
    commands: [{ usage: "cluster", summary: "register, list or remove member clusters, with least-privilege access on each" }],
    load: async () => (await import("./cluster.js")).registerClusterCommands,
  },
  {
    commands: [
      { usage: "secret", summary: "seal values for clusters' keys into a sealed-secret component, or re-seal a file's values for the current clusters" },
    ],
    load: async () => (await import("./secret.js")).registerSecretCommands,
  },
  {
    commands: [{ usage: "placement", summary: "placement tools" }],
    load: async () => (await import("./placement.js")).registerPlacementCommands,
  },
  {
    commands: [{ usage: "health", summary: "assess the health of live objects from files or a cluster, with the sync loop's rules" }],
    load: async () => (await import("./health.js")).registerHealthCommand,
  },
  {
    commands: [{ usage: "version", summary: "print Flotilla's version (-o json for the details)" }],
    load: async () => (await import("./version.js")).registerVersionCommand,
  },
  {
    commands: [{ usage: "completion <shell>", summary: "print a bash or zsh completion script" }],
    // The script lists every command and option, so every command is loaded first (see main.ts).
    load: async () => (await import("./completion.js")).registerCompletionCommand,
    loadsAll: true,
  },
];

/** The name a command is invoked by: the first word of its usage. */
export function commandName(usage: string): string {
  return usage.split(" ")[0] ?? usage;
}

/** The `--help` line of a top-level command, for its module to register it with. */
export function summaryOf(name: string): string {
  for (const group of COMMAND_GROUPS) {
    const found = group.commands.find((c) => commandName(c.usage) === name);
    if (found) return found.summary;
  }
  throw new Error(`no command ${name} in COMMAND_GROUPS`);
}
