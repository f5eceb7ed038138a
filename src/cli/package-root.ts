// The package's root folder (where package.json, definitions/ and examples/ live), found from this
// module whether it runs compiled (dist/src/cli) or from source (src/cli, under the test runner),
// and the version its package.json gives (the one source of `flotilla --version`).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "flotilla") {
      root = dir;
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error("cannot find the flotilla package root (package.json) above the CLI module");
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
