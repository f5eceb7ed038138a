// The compiled CLI (dist/) that tests run as a real process, built from the current sources. tsc
// is incremental (dist/tsconfig.tsbuildinfo): a build with nothing changed only checks, so every
// test file that runs the CLI may ask for one. It must succeed: tsc emits even when a file has a
// type error, so a failed build is reported with its diagnostics instead of testing what it left.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const MAIN = join(ROOT, "dist", "src", "cli", "main.js");
const BUILD_INFO = join(ROOT, "dist", "tsconfig.tsbuildinfo");
// Test files run two at a time: one tsc at a time writes dist/, the other waits and then finds nothing to do.
const LOCK = join(ROOT, "dist", ".build-lock");
const LOCK_STALE_MS = 180_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withBuildLock(fn: () => void): void {
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // A lock left by a killed run.
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else sleepSync(200);
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function tsc(): void {
  const build = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: ROOT, encoding: "utf8" });
  if (build.error || build.status !== 0) {
    throw new Error(
      `tsc -p tsconfig.json failed (exit ${build.status}${build.signal ? `, ${build.signal}` : ""}):\n${build.stdout ?? ""}${build.stderr ?? ""}`,
      {
        cause: build.error,
      },
    );
  }
}

/** Compile src/ and test/ into dist/, failing with tsc's diagnostics. */
export function buildDist(): void {
  withBuildLock(() => {
    tsc();
    // Incremental tsc trusts its build info: outputs deleted by hand are not written again unless it goes.
    if (!existsSync(MAIN)) {
      rmSync(BUILD_INFO, { force: true });
      tsc();
    }
  });
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing after tsc -p tsconfig.json`);
}
