// The npm package as a user gets it: built, packed (`npm pack`, scripts off: dist/ is built
// first, the web UI's bundle too), installed into an empty folder, and run from there. It must carry everything the CLI
// reads at run time — the install bundles among them — and what the Dockerfile copies from it.
// About 40–60 s on 2 cores: the build, and `npm install` of the production dependencies from
// npm's cache.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBundle } from "../../../src/cli/bundle.js";
import { buildUi } from "../../support/browser.js";
import { buildCli, ROOT } from "../cli/compiled-cli.js";
import { copies, last, parseDockerfile } from "./dockerfile.js";

const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

let tmp: string;
/** Paths in the tarball, relative to the package root. */
let packed: string[];
/** The package as installed: <app>/node_modules/flotilla. */
let installed: string;
let bin: string;

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} in ${cwd} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`, { cause: result.error });
  }
  return result.stdout;
}

beforeAll(() => {
  buildCli();
  // The web UI's bundle (dist/ui) is part of the package: the controller serves it.
  buildUi();
  tmp = mkdtempSync(join(tmpdir(), "flotilla-pack-"));
  const [pack] = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], ROOT)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  packed = (pack?.files ?? []).map((f) => f.path);
  const app = join(tmp, "app");
  mkdirSync(app);
  // A package.json of its own, so npm installs here and not into a folder above.
  writeFileSync(join(app, "package.json"), '{"name": "flotilla-pack-test", "private": true}\n');
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(tmp, pack?.filename as string)], app);
  installed = join(app, "node_modules", "flotilla");
  bin = join(app, "node_modules", ".bin", "flotilla");
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the npm package", { timeout: 60_000 }, () => {
  it("runs flotilla version from an empty folder it was installed into", () => {
    expect(run(bin, ["version", "-o", "short"], tmp)).toBe(`${version}\n`);
  });

  it("loads the install command from there", () => {
    expect(run(bin, ["install", "--help"], tmp)).toContain("--without-controller");
  });

  it("carries the compiled CLI and the web UI's bundle, not the compiled tests", () => {
    expect(packed).toContain("dist/src/cli/main.js");
    expect(packed).toContain("dist/ui/index.html");
    expect(packed.filter((p) => p.startsWith("dist/") && !p.startsWith("dist/src/") && !p.startsWith("dist/ui/"))).toEqual([]);
  });

  it.each(["deploy", "deploy/git-remote", "deploy/agent", "crds"])("carries the whole %s bundle: flotilla install reads the same objects there", (dir) => {
    expect(readBundle(join(installed, dir))).toEqual(readBundle(join(ROOT, dir)));
  });

  it("carries the built-in definitions and the quickstart flotilla up applies", () => {
    expect(packed.filter((p) => p.startsWith("definitions/")).length).toBeGreaterThan(0);
    expect(packed).toContain("examples/quickstart/app.yaml");
    expect(packed).toContain("scripts/install-control-plane.sh");
  });

  it("holds every path the Dockerfile's runtime stage copies from the build stage", () => {
    const stages = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
    const workdir = last(stages[0]!, "WORKDIR") as string;
    const paths = copies(stages.at(-1)!)
      .filter((c) => c.from !== undefined)
      // Stock git (dockerfile.test.ts checks it) is the build stage's, not the package's.
      .flatMap((c) => c.sources.filter((s) => s !== "/git-runtime/").map((s) => posix.relative(workdir, s)))
      .filter((p) => p !== "node_modules");
    for (const path of paths) {
      expect(
        packed.some((p) => p === path || p.startsWith(`${path}/`)),
        `${path} in the tarball`,
      ).toBe(true);
      expect(existsSync(join(installed, path)), `${path} installed`).toBe(true);
    }
  });
});
