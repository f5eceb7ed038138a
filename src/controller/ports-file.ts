// The ports a controller's servers listen on, written to a file once they all listen: a script
// that starts the controller with port 0 (`flotilla up` does) learns them from it, instead of
// choosing free ports beforehand, which another process may take before the controller binds them.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The ports of the servers that listen; a server that is off has none. */
export interface ListeningPorts {
  metrics?: number;
  git?: number;
  admission?: number;
  ui?: number;
}

/** Write the file whole or not at all (a reader polling for it never sees half of it). */
export async function writePortsFile(file: string, ports: ListeningPorts): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(ports)}\n`);
  await rename(partial, file);
}

/** The ports in the file, or undefined while it does not exist. */
export async function readPortsFile(file: string): Promise<ListeningPorts | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return JSON.parse(text) as ListeningPorts;
}
