// The background processes `flotilla up` starts (a detached controller, local agents) and waits
// on: when one exits, waiting for the example to become Healthy would only end at the timeout, so
// `up` stops and shows why.

import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { FlotillaError } from "../api/errors.js";
import { type ListeningPorts, readPortsFile } from "../controller/ports-file.js";

/** A background process `up` started and waits on: when it exits, waiting for Healthy is pointless. */
export interface WatchedProcess {
  what: string;
  child: ChildProcess;
  log: string;
}

/** The first watched process that has exited, as an error that shows the end of its log. */
export async function exitedProcess(watched: readonly WatchedProcess[], before = "the example was Healthy"): Promise<FlotillaError | undefined> {
  const gone = watched.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
  if (!gone) return undefined;
  const how = gone.child.signalCode ? `signal ${gone.child.signalCode}` : `exit code ${gone.child.exitCode}`;
  const lines = (await readFile(gone.log, "utf8").catch(() => "")).trimEnd().split("\n").slice(-LOG_LINES_SHOWN);
  return new FlotillaError(`The ${gone.what} stopped (${how}) before ${before}. The end of ${gone.log}:\n${lines.join("\n")}`);
}

const LOG_LINES_SHOWN = 30;

/**
 * The ports a background controller listens on, from the `--ports-file` it writes once its servers
 * listen; fails when it exits first or does not write it within `timeoutMs`.
 */
export async function listeningPorts(file: string, controller: WatchedProcess, timeoutMs: number): Promise<ListeningPorts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ports = await readPortsFile(file);
    if (ports) return ports;
    const gone = await exitedProcess([controller], "its servers listened");
    if (gone) throw gone;
    if (Date.now() > deadline)
      throw new FlotillaError(
        `The ${controller.what} did not write ${file} within ${timeoutMs / 1000} s (its servers do not listen yet); see ${controller.log}.`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
