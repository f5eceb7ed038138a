// What kubectl users expect of any CLI that talks to clusters, checked on the compiled `flotilla`:
// `-f -` reads standard input, the kubeconfig's context picks the namespace, `--context` picks the
// context, a missing kubeconfig names the file, `version` reads package.json, and exit codes tell
// a bad usage (2) and an unreachable cluster (3) from a refused input (1).

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, flotilla, ROOT } from "./compiled-cli.js";

let tmp: string;
/** A kubeconfig whose server refuses connections; its context's namespace is `shop`. */
let unreachable: string;

beforeAll(async () => {
  buildCli();
  tmp = await mkdtemp(join(tmpdir(), "flotilla-habits-"));
  unreachable = join(tmp, "unreachable.kubeconfig");
  await writeFile(
    unreachable,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: closed",
      '  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
      "users:",
      "- name: someone",
      "  user: {token: not-a-secret}",
      "contexts:",
      "- name: shop-context",
      "  context: {cluster: closed, user: someone, namespace: shop}",
      "- name: plain",
      "  context: {cluster: closed, user: someone}",
      "current-context: shop-context",
      "",
    ].join("\n"),
  );
}, 180_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("the flotilla CLI, by kubectl's habits", { timeout: 60_000 }, () => {
  it("reads -f - from standard input and names it stdin in problems", async () => {
    const app = await readFile(join(ROOT, "examples/quickstart/app.yaml"), "utf8");
    const valid = await flotilla(["validate", "-f", "-"], { input: app });
    expect({ code: valid.code, stdout: valid.stdout }).toEqual({ code: 0, stdout: "1 document(s) valid\n" });
    const broken = await flotilla(["validate", "-f", "-"], { input: "kind: ApplicationDeployment\n" });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("stdin: metadata: is required");
  });

  it("renders what arrives on standard input like the same file", async () => {
    const file = join(ROOT, "examples/quickstart/app.yaml");
    const fromFile = await flotilla(["render", "-f", file]);
    const fromStdin = await flotilla(["render", "-f", "-"], { input: await readFile(file, "utf8") });
    expect(fromFile.code).toBe(0);
    expect(fromStdin).toEqual(fromFile);
  });

  it("prints the version of package.json, as text and as JSON", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    const text = await flotilla(["version"]);
    expect(text.stdout).toMatch(new RegExp(`^flotilla ${version.replaceAll(".", "\\.")} \\(node v\\d+`));
    const json = await flotilla(["version", "-o", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ flotilla: version, node: process.version });
    expect((await flotilla(["--version"])).stdout.trim()).toBe(version);
  });

  it("exits 2 for bad usage, naming what was wrong", async () => {
    const unknownCommand = await flotilla(["rendr"]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'rendr'");
    expect(unknownCommand.stderr).toContain("render"); // the suggestion
    const unknownOption = await flotilla(["render", "--fiel", "x"]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--fiel'");
    const unknownFormat = await flotilla(["version", "-o", "xml"]);
    expect({ code: unknownFormat.code, stderr: unknownFormat.stderr }).toEqual({
      code: 2,
      stderr: 'error: --output: "xml" is not a format. Use text, short, json or yaml.\n',
    });
  });

  it("exits 3 when the cluster cannot be reached, in the context's namespace", async () => {
    const run = await flotilla(["rollout", "promote", "web", "--kubeconfig", unreachable]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("shop/web");
    expect(run.stderr).toContain("ECONNREFUSED");
  });

  it("takes -n over the context's namespace, and --context picks another context", async () => {
    expect((await flotilla(["status", "web", "--kubeconfig", unreachable, "-n", "team-a"])).stderr).toContain("team-a/web");
    expect((await flotilla(["status", "web", "--kubeconfig", unreachable, "--context", "plain"])).stderr).toContain("default/web");
    const unknown = await flotilla(["status", "web", "--kubeconfig", unreachable, "--context", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--context: no context "nope" in the kubeconfig (it has: shop-context, plain)');
  });

  it("says which kubeconfig is missing and how to point at another", async () => {
    const missing = join(tmp, "nowhere.kubeconfig");
    const byFlag = await flotilla(["status", "web", "--kubeconfig", missing]);
    expect(byFlag.code).toBe(1);
    expect(byFlag.stderr).toContain(`--kubeconfig: ${missing} does not exist. Pass --kubeconfig FILE or set KUBECONFIG`);
    const byEnv = await flotilla(["status", "web"], { env: { ...process.env, KUBECONFIG: missing } });
    expect(byEnv.stderr).toContain(`KUBECONFIG names ${missing}, none of which exists`);
    // A missing file next to one that exists is skipped, as kubectl does: the existing one is used.
    const partly = await flotilla(["status", "web"], { env: { ...process.env, KUBECONFIG: `${missing}:${unreachable}` } });
    expect({ code: partly.code, stderr: partly.stderr }).toMatchObject({ code: 3, stderr: expect.stringContaining("shop/web") });
  });

  it("prints a completion script that knows every command, loading them all for it", async () => {
    const bash = await flotilla(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('"rollout promote") words="--context --help --kubeconfig --namespace -n"');
    expect(bash.stdout).toContain("complete -o default -F _flotilla flotilla");
    const fish = await flotilla(["completion", "fish"]);
    expect({ code: fish.code, stderr: fish.stderr }).toEqual({
      code: 1,
      stderr: 'error: completion: "fish" is not a shell Flotilla completes. Use bash or zsh.\n',
    });
  });

  it("shows a command's full help for flotilla help COMMAND, as for COMMAND --help", async () => {
    const viaHelp = await flotilla(["help", "render"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain("--out-dir <dir>");
    expect(viaHelp.stdout).toBe((await flotilla(["render", "--help"])).stdout);
  });

  it("lists every command in --help", async () => {
    const help = await flotilla(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "render",
      "validate",
      "definitions",
      "fleet",
      "controller",
      "install",
      "up",
      "down",
      "rollout",
      "status [name]",
      "placement",
      "health",
      "version",
    ]) {
      expect(help.stdout).toContain(`  ${command}`);
    }
  });
});
