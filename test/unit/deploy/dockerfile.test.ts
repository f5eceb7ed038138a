// The Dockerfile cannot be built here (no container runtime), so what can be checked without
// building it is checked: what it copies exists and reaches the build context, the runtime stage
// takes only what the npm package holds (plus production dependencies), and it runs as 65532 —
// the user deploy/ runs it as.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { readBundle } from "../../../src/cli/bundle.js";
import { copies, dockerIgnored, last, parseDockerfile } from "./dockerfile.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const stages = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const dockerignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { files: string[]; bin: Record<string, string> };
const build = stages[0];
/** What the build stage gathers of git for the runtime stage (copied to /). */
const GIT_RUNTIME = "/git-runtime/";
const runtime = stages.at(-1);

function filesUnder(path: string): string[] {
  const abs = join(ROOT, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).flatMap((name) => filesUnder(posix.join(path, name)));
}

/** A path as npm packs it: package.json, or at or under an entry of `files`. */
function inPackage(path: string): boolean {
  return path === "package.json" || pkg.files.some((f) => path === f || path.startsWith(`${f}/`));
}

function jsonArray(value: string | undefined): string[] {
  return JSON.parse(value ?? "null") as string[];
}

describe("the Dockerfile", () => {
  it("has a build stage on Node 20 (Debian) and a distroless Node 20 runtime stage", () => {
    expect(stages).toHaveLength(2);
    expect(build?.image).toMatch(/^node:20-(bookworm|bullseye)/);
    expect(build?.name).toBe("build");
    expect(runtime?.image).toMatch(/^gcr\.io\/distroless\/nodejs20-debian\d+:nonroot$/);
  });

  it("copies from the build context only paths that exist and that .dockerignore lets through", () => {
    const problems: string[] = [];
    for (const copy of stages.flatMap(copies).filter((c) => c.from === undefined)) {
      for (const source of copy.sources) {
        const path = source.replace(/^\.\//, "").replace(/\/$/, "");
        if (!existsSync(join(ROOT, path))) problems.push(`line ${copy.line}: ${source} does not exist`);
        else if (dockerIgnored(path, dockerignore)) problems.push(`line ${copy.line}: ${source} is excluded by .dockerignore`);
        else if (filesUnder(path).every((f) => dockerIgnored(f, dockerignore)))
          problems.push(`line ${copy.line}: every file of ${source} is excluded by .dockerignore`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("keeps what the build does not read out of the context", () => {
    for (const path of [
      "node_modules/commander/package.json",
      "dist/src/cli/main.js",
      ".git/HEAD",
      "test/unit/builders.ts",
      "docs/cli.md",
      "test/bench/results.json",
      ".flotilla/hub.kubeconfig",
    ]) {
      expect(dockerIgnored(path, dockerignore), path).toBe(true);
    }
  });

  it("takes into the runtime stage only what the npm package holds, and production dependencies", () => {
    const workdir = last(build!, "WORKDIR") as string;
    const problems: string[] = [];
    const fromBuild = copies(runtime!).filter((c) => c.from !== undefined);
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const copy of fromBuild) {
      if (copy.from !== build?.name) problems.push(`line ${copy.line}: copies from ${copy.from}, not from the build stage`);
      for (const source of copy.sources) {
        if (source === GIT_RUNTIME) continue; // stock git, checked below
        const path = posix.relative(workdir, source);
        if (path === "node_modules") continue;
        if (!inPackage(path)) problems.push(`line ${copy.line}: ${path} is not in the npm package (package.json files: ${pkg.files.join(", ")})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("gives the runtime stage stock git and git-http-backend (the controller's Git server runs them), gathered in the build stage", () => {
    const script = build!.instructions
      .filter((i) => i.keyword === "RUN")
      .map((i) => i.rest)
      .join(" && ");
    expect(script).toMatch(/apt-get install -y --no-install-recommends git\b/);
    expect(script).toMatch(new RegExp(`cp --parents -L /usr/bin/git /usr/lib/git-core/git-http-backend\\s+\\$\\(ldd .*\\)\\s+${GIT_RUNTIME}`));
    const gitCopies = copies(runtime!).filter((c) => c.sources.includes(GIT_RUNTIME));
    expect(gitCopies).toEqual([expect.objectContaining({ from: build?.name, sources: [GIT_RUNTIME], destination: "/" })]);
  });

  it("drops the development dependencies after building, before the runtime stage copies node_modules", () => {
    const script = build!.instructions
      .filter((i) => i.keyword === "RUN")
      .map((i) => i.rest)
      .join(" && ");
    expect(script).toMatch(/\bnpm ci\b.*\bnpm run build\b.*\bnpm prune [^&;]*--omit=dev/);
  });

  it.each(["deploy", "deploy/agent"])("runs as uid and gid 65532, the user %s runs it as", (dir) => {
    expect(last(runtime!, "USER")).toBe("65532:65532");
    const deployment = readBundle(join(ROOT, dir)).find((o) => o.kind === "Deployment") as Manifest;
    const security = (deployment.spec as { template: { spec: { securityContext: Record<string, unknown> } } }).template.spec.securityContext;
    expect(security).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 });
  });

  it("is the agent's image too: deploy/agent keeps the entrypoint and picks the agent command by its first argument", () => {
    const deployment = readBundle(join(ROOT, "deploy", "agent")).find((o) => o.kind === "Deployment") as Manifest;
    const container = (deployment.spec as { template: { spec: { containers: Array<{ command?: string[]; args: string[] }> } } }).template.spec.containers[0];
    expect(container?.command).toBeUndefined();
    expect(container?.args[0]).toBe("agent");
    expect(copies(runtime!).some((c) => c.sources.some((s) => posix.relative(last(build!, "WORKDIR") as string, s) === "deploy"))).toBe(true);
  });

  it("starts the package's bin with the controller command by default, as deploy/ runs it", () => {
    const entrypoint = jsonArray(last(runtime!, "ENTRYPOINT"));
    expect(entrypoint[0]).toMatch(/\/node$/);
    expect(posix.normalize(entrypoint[1] as string)).toBe(posix.normalize(pkg.bin.flotilla as string));
    expect(jsonArray(last(runtime!, "CMD"))).toEqual(["controller"]);
    const deployment = readBundle(join(ROOT, "deploy")).find((o) => o.kind === "Deployment") as Manifest;
    const container = (deployment.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0];
    expect(container?.args[0]).toBe("controller");
  });

  it("says at the top that it is not built here", () => {
    const head = readFileSync(join(ROOT, "Dockerfile"), "utf8").split("\n").slice(0, 10).join("\n");
    expect(head).toMatch(/NEVER BUILT HERE/);
  });
});

describe("dockerIgnored", () => {
  it.each([
    ["node_modules", "node_modules/x/index.js", true],
    ["dist", "dist", true],
    ["*.tgz", "flotilla-0.1.0.tgz", true],
    ["*.tgz", "sub/flotilla-0.1.0.tgz", false],
    ["**/*.tgz", "sub/flotilla-0.1.0.tgz", true],
    ["test\n!test/keep", "test/keep/a.ts", false],
    ["test\n!test/keep", "test/other.ts", true],
    ["/docs/", "docs/a.md", true],
    ["src/*.test.ts", "src/a.ts", false],
  ])("%j applied to %s ignores it: %s", (rules, path, expected) => {
    expect(dockerIgnored(path, rules)).toBe(expected);
  });
});
