#!/usr/bin/env node
// The package registry reachable from our machines does not serve every platform build of
// packages that ship native binaries as optional dependencies (@biomejs/cli-*, @rollup/rollup-*).
// `npm install` then leaves those entries out of package-lock.json, and `npm ci` refuses the lock
// as out of sync. This adds an entry for every missing optional dependency, with the os/cpu/libc
// its name declares, so `npm ci` skips it on other platforms exactly as with a complete lock.
// Run it after `npm install` changes the lock: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const OS = ["android", "darwin", "win32", "linux", "freebsd", "openbsd", "openharmony", "sunos", "aix", "netbsd"];
const CPU = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x", "mips64el"];
let added = 0;
for (const meta of Object.values(lock.packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key]) continue;
    const parts = dep.split("/").pop().split("-");
    const os = OS.find((o) => parts.includes(o));
    const cpu = CPU.find((c) => parts.includes(c));
    const entry = { version, optional: true };
    if (meta.dev) entry.dev = true;
    if (os) entry.os = [os];
    if (cpu) entry.cpu = [cpu];
    if (parts.some((p) => p.startsWith("musl"))) entry.libc = ["musl"];
    else if (os === "linux") entry.libc = ["glibc"];
    lock.packages[key] = entry;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`package-lock.json: added ${added} optional platform entries\n`);
