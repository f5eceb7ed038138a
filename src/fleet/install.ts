// Makes sure the control-plane binaries exist: etcd from Debian's etcd-server package, and
// kube-apiserver + kube-controller-manager built once from Debian's kubernetes source (cached in
// ~/.cache/flotilla). The work is done by scripts/install-control-plane.sh (idempotent, locked);
// this module only finds the binaries, or runs the script and streams its progress.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ControlPlaneMissingError } from "./errors.js";
import { k8sBinDir } from "./paths.js";

export interface ControlPlaneBinaries {
  binDir: string;
  etcd: string;
  apiServer: string;
  controllerManager: string;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `FLOTILLA_ETCD`, else `etcd` on PATH, else /usr/bin/etcd. */
function findEtcd(env: NodeJS.ProcessEnv): string | undefined {
  if (env.FLOTILLA_ETCD) return executable(env.FLOTILLA_ETCD) ? env.FLOTILLA_ETCD : undefined;
  for (const dir of [...(env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/bin"]) {
    const candidate = path.join(dir, "etcd");
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** The binaries when all are present, else undefined. */
export function findControlPlane(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries | undefined {
  const binDir = k8sBinDir(env);
  const apiServer = path.join(binDir, "kube-apiserver");
  const controllerManager = path.join(binDir, "kube-controller-manager");
  const etcd = findEtcd(env);
  if (!etcd || !executable(apiServer) || !executable(controllerManager)) return undefined;
  return { binDir, etcd, apiServer, controllerManager };
}

/** scripts/install-control-plane.sh of this package (from src/ or from dist/src/). */
export function installScriptPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, "scripts", "install-control-plane.sh");
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new ControlPlaneMissingError("scripts/install-control-plane.sh not found next to the flotilla package");
}

/**
 * Return the control-plane binaries, running the install script first when any is missing (a cold
 * build takes 4-8 minutes on 2 cores; progress lines go to `log`).
 */
export async function ensureControlPlane(options: { log?: (line: string) => void } = {}): Promise<ControlPlaneBinaries> {
  const found = findControlPlane();
  if (found) return found;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const script = installScriptPath();
  log(`control-plane binaries missing: running ${script} (cached after the first run)`);
  const tail: string[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
    const onData = (buf: Buffer) => {
      for (const line of buf.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        log(line);
        tail.push(line);
        if (tail.length > 30) tail.shift();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", () => resolve(-1));
    child.on("exit", (c) => resolve(c ?? -1));
  });
  const after = findControlPlane();
  if (code === 0 && after) return after;
  throw new ControlPlaneMissingError(
    `installing the control plane failed (exit ${code}). Run \`bash ${script}\` to see why ` +
      `(it needs apt-get and root or sudo); binaries are expected in ${k8sBinDir()} and etcd on PATH.\n${tail.join("\n")}`,
  );
}
