// The background processes `flotilla up` starts (a detached controller, local agents) and waits
// on: when one exits, waiting for the example to become Healthy would only end at the timeout, so
// `up` stops and shows why.

import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { FlotillaError } from "../api/errors.js";

/** A background process `up` started and waits on: when it exits, waiting for Healthy is pointless. */
export interface WatchedProcess {
  what: string;
  child: ChildProcess;
  log: string;
}

/** The first watched process that has exited, as an error that shows the end of its log. */
export async function exitedProcess(watched: readonly WatchedProcess[]): Promise<FlotillaError | undefined> {
  const gone = watched.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
  if (!gone) return undefined;
  const how = gone.child.signalCode ? `signal ${gone.child.signalCode}` : `exit code ${gone.child.exitCode}`;
  const lines = (await readFile(gone.log, "utf8").catch(() => "")).trimEnd().split("\n").slice(-LOG_LINES_SHOWN);
  return new FlotillaError(`The ${gone.what} stopped (${how}) before the example was Healthy. The end of ${gone.log}:\n${lines.join("\n")}`);
}

const LOG_LINES_SHOWN = 30;
