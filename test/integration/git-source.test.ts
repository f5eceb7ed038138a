// GitSource end to end: a team's repository served by stock `git http-backend` on loopback (with
// a token), commits made with stock git in a work tree, and the controller as a real process.
// A committed ApplicationDeployment reaches its clusters; an image change rolls out through the
// waves; a hand edit of the AD is put back; a file naming another namespace or a
// ClusterRoleBinding, or an invalid field, stops the whole commit with the file and field in
// status while the previous state keeps running; a revert in Git rolls back; a removed file is
// pruned. A signed webhook starts a fetch at once; an unsigned or forged one gets 401 and starts
// nothing. No token or webhook secret in status or logs.

import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, GitSource } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, orAbsent, uniqueName, waitFor } from "./support/fleet.js";
import { createBareRepo, type GitHttpServer, git, startGitHttpServer } from "./support/git-http-server.js";

const TOKEN = "flt-source-test-7d2e61b9c0a4";
const CLUSTERS = ["staging", "prod-eu", "prod-us"];

let root: string;
let work: string;
let server: GitHttpServer;
let controller: ControllerProcess;
let ns: string;
let failed = false;
const custom = () => kubeConfig("hub").makeApiClient(CustomObjectsApi);

/** The team's deployment: a staging wave, then a production wave. */
function shop(image: string, extra = ""): string {
  return `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata:
  name: shop
spec:
  appRevisions:
    - name: v1
      template:
        spec:
          components:
            - {name: shop, type: worker, settings: {image: "${image}", cmd: [sleep, "3600"]}}
      rollout: {replicas: 1${extra}}
  placementStrategies:
    - {name: staging, clusterSelector: {labels: {usage: staging}}}
    - {name: production, clusterSelector: {labels: {usage: production}}}
`;
}

const g = (args: string[]) => git(args, { cwd: work, home: root });

/** Write (or, with null, remove) files, commit and push; returns the commit. */
async function commit(files: Record<string, string | null>, message: string): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    if (text === null) await g(["rm", "--quiet", path]);
    else {
      await mkdir(join(work, path, ".."), { recursive: true });
      await writeFile(join(work, path), text);
      await g(["add", path]);
    }
  }
  await g(["commit", "--quiet", "-m", message]);
  await g(["push", "--quiet", "origin", "main"]);
  return (await g(["rev-parse", "HEAD"])).trim();
}

async function source(): Promise<GitSource> {
  return (await custom().getNamespacedCustomObject({
    group: "flotilla.dev",
    version: "v1alpha1",
    namespace: ns,
    plural: "gitsources",
    name: "team",
  })) as GitSource;
}

async function shopOnHub(): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(
    custom().getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace: ns, plural: "applicationdeployments", name: "shop" }),
  )) as ApplicationDeployment | undefined;
}

const imageOf = (ad: ApplicationDeployment | undefined) => ad?.spec.appRevisions[0]?.template.spec.components[0]?.settings?.image;

/** The image of the shop's workload on each member (undefined where there is none). */
async function imagesOnMembers(): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const c of CLUSTERS) {
    const d = await orAbsent(kubeConfig(c).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: "shop-v1" }));
    out[c] = d?.spec?.template.spec?.containers[0]?.image;
  }
  return out;
}

const everywhere = (image: string) => Object.fromEntries(CLUSTERS.map((c) => [c, image]));

/** The image on every member, and the rollout finished (the next change starts a rollout of its own). */
async function waitForImages(image: string, message: string): Promise<void> {
  await waitFor(async () => JSON.stringify(await imagesOnMembers()) === JSON.stringify(everywhere(image)), { timeoutMs: 150_000, intervalMs: 1_000, message });
  await waitFor(
    async () => {
      const ad = await shopOnHub();
      return ad?.status?.phase === "Healthy" && ad.status.observedGeneration === ad.metadata.generation;
    },
    { timeoutMs: 120_000, intervalMs: 1_000, message: `${message}: the shop Healthy` },
  );
}

async function waitForSource(pred: (s: GitSource) => boolean, message: string, timeoutMs = 30_000): Promise<GitSource> {
  return waitFor(
    async () => {
      const s = await source();
      return pred(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 500, message },
  );
}

const ready = (s: GitSource) => s.status?.conditions?.find((c) => c.type === "Ready");

describe("GitSource", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    root = await mkdtemp(join(tmpdir(), "flotilla-source-"));
    await mkdir(join(root, "srv"));
    server = await startGitHttpServer({ root: join(root, "srv"), token: TOKEN });
    const bare = await createBareRepo(join(root, "srv"), "team.git");
    work = join(root, "work");
    await git(["init", "--quiet", "--initial-branch=main", work], { home: root });
    await g(["remote", "add", "origin", bare]);
    await commit({ "README.md": "# team a\n" }, "start");

    ns = uniqueName("team-a");
    for (const c of ["hub", ...CLUSTERS])
      await kubeConfig(c)
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: ns, labels: { "flotilla.dev/test": "true" } } } });
    await kubectl("hub", ["-n", ns, "create", "secret", "generic", "team-git", `--from-literal=token=${TOKEN}`]);
    const gitSource = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "GitSource",
      metadata: { name: "team", namespace: ns },
      spec: { url: server.url("team.git"), ref: { branch: "main" }, path: "apps", interval: "2s", secretRef: { name: "team-git" } },
    };
    await kubectl("hub", ["apply", "-f", "-"], { input: toYaml(gitSource) });
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir: join(root, "data"),
      logFile: join(root, "controller.log"),
      args: ["--no-leader-elect", "--resync", "30s"],
    });
  }, 180_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    await server?.stop();
    if (ns)
      for (const c of ["hub", ...CLUSTERS])
        await kubeConfig(c)
          .makeApiClient(CoreV1Api)
          .deleteNamespace({ name: ns })
          .catch(() => undefined);
    if (failed) console.log(`[git-source] the controller's log and the repositories are kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  const step = (name: string, body: () => Promise<void>, timeoutMs = 240_000) =>
    it(
      name,
      async () => {
        if (failed) throw new Error("an earlier step failed");
        try {
          await body();
        } catch (e) {
          failed = true;
          throw e;
        }
      },
      timeoutMs,
    );

  let first: string;
  let second: string;

  step("a team commits an ApplicationDeployment: it is applied to the hub with its source, commit and file, and reaches its clusters", async () => {
    first = await commit({ "apps/shop.yaml": shop("shop:1") }, "add the shop");
    const s = await waitForSource((x) => x.status?.appliedCommit === first, `the source to apply ${first}`, 60_000);
    expect(ready(s)).toMatchObject({ status: "True", reason: "Applied" });
    expect(ready(s)?.message).toContain(`commit ${first.slice(0, 12)} (branch main, path apps)`);
    expect(s.status?.lastFetchedCommit).toBe(first);
    expect(s.status?.inventory).toEqual([
      { apiVersion: "flotilla.dev/v1alpha1", kind: "ApplicationDeployment", name: "shop", namespace: ns, file: "apps/shop.yaml" },
    ]);
    expect(s.metadata.finalizers).toContain("flotilla.dev/source-prune");
    const ad = await shopOnHub();
    expect(ad?.metadata.labels?.["flotilla.dev/source"]).toBe(`${ns}.team`);
    expect(ad?.metadata.annotations).toMatchObject({
      "flotilla.dev/source": `${ns}/team`,
      "flotilla.dev/source-commit": first,
      "flotilla.dev/source-file": "apps/shop.yaml",
    });
    expect(ad?.metadata.managedFields?.some((f) => f.manager === "flotilla-source" && f.operation === "Apply")).toBe(true);
    await waitForImages("shop:1", "shop:1 on every member");
  });

  step("a commit changing the image rolls out through the waves", async () => {
    second = await commit({ "apps/shop.yaml": shop("shop:2") }, "shop 2");
    await waitFor(async () => (await shopOnHub())?.metadata.annotations?.["flotilla.dev/source-commit"] === second, {
      timeoutMs: 30_000,
      message: "the AD at the second commit",
    });
    expect(imageOf(await shopOnHub())).toBe("shop:2");
    // The staging wave first: production still runs shop:1 when staging has shop:2.
    const seen: Array<Record<string, string | undefined>> = [];
    await waitFor(
      async () => {
        const images = await imagesOnMembers();
        seen.push(images);
        return JSON.stringify(images) === JSON.stringify(everywhere("shop:2"));
      },
      { timeoutMs: 150_000, intervalMs: 500, message: "shop:2 on every member" },
    );
    const productionBeforeStaging = seen.some((i) => i.staging !== "shop:2" && (i["prod-eu"] === "shop:2" || i["prod-us"] === "shop:2"));
    expect(productionBeforeStaging).toBe(false);
    await waitForImages("shop:2", "shop:2 on every member");
    // Traceability: the deployment's status and the environment commits of the rollout name the team's commit.
    expect((await shopOnHub())?.status?.sourceCommit).toBe(second);
    const envLog = await git(["--git-dir", join(root, "data", "env.git"), "log", "--format=%B%x1e"], { home: root });
    const trailers = envLog.split("\x1e").filter((m) => m.includes(`Flotilla-Deployment: ${ns}/shop`));
    expect(trailers.filter((m) => m.includes(`Flotilla-Source-Commit: ${second}`)).length).toBeGreaterThanOrEqual(2);
    expect(trailers.some((m) => m.includes(`Flotilla-Source-Commit: ${first}`))).toBe(true);
  });

  step("a hand edit of a field the source owns is put back at the next fetch", async () => {
    await kubectl("hub", [
      "-n",
      ns,
      "patch",
      "applicationdeployment",
      "shop",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/spec/appRevisions/0/template/spec/components/0/settings/image", value: "shop:by-hand" }]),
    ]);
    await waitFor(async () => imageOf(await shopOnHub()) === "shop:2", { timeoutMs: 20_000, message: "the source to put shop:2 back" });
    await waitForImages("shop:2", "shop:2 on every member after the hand edit was undone");
  });

  let reverted: string;

  step("a file with another namespace or a ClusterRoleBinding stops the whole commit, with a reason in status", async () => {
    const evil = `${shop("shop:evil").replace("  name: shop\n", "  name: shop\n  namespace: team-b\n")}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${ns}-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: ${ns}}]
`;
    // The same commit changes the image: nothing of it may be applied.
    const refused = await commit({ "apps/evil.yaml": evil, "apps/shop.yaml": shop("shop:3") }, "sneak in");
    const s = await waitForSource((x) => x.status?.lastFetchedCommit === refused && ready(x)?.reason === "Refused", "the commit to be refused");
    const message = ready(s)?.message ?? "";
    expect(ready(s)?.status).toBe("False");
    expect(message).toContain(`commit ${refused.slice(0, 12)} is not applied`);
    expect(message).toContain(`commit ${second.slice(0, 12)} stays applied`);
    expect(message).toMatch(/apps\/evil\.yaml: metadata\.namespace: is "team-b": a GitSource applies into its own namespace only/);
    expect(message).toMatch(/apps\/evil\.yaml \(document 2\): kind: ClusterRoleBinding may not be applied by a GitSource in namespace/);
    expect(s.status?.appliedCommit).toBe(second);
    // A few more fetches: still nothing applied.
    await new Promise((r) => setTimeout(r, 5_000));
    const ad = await shopOnHub();
    expect(imageOf(ad)).toBe("shop:2");
    expect(ad?.metadata.annotations?.["flotilla.dev/source-commit"]).toBe(second);
    const crb = await orAbsent(
      kubeConfig("hub")
        .makeApiClient(RbacAuthorizationV1Api)
        .readClusterRoleBinding({ name: `${ns}-admin` }),
    );
    expect(crb).toBeUndefined();
    const elsewhere = custom().getNamespacedCustomObject({
      group: "flotilla.dev",
      version: "v1alpha1",
      namespace: "team-b",
      plural: "applicationdeployments",
      name: "shop",
    });
    expect(await orAbsent(elsewhere)).toBeUndefined();
    expect(await imagesOnMembers()).toEqual(everywhere("shop:2"));
    // Reverting the commit in Git makes the source Ready again, at the same spec.
    await g(["revert", "--no-edit", "HEAD"]);
    await g(["push", "--quiet", "origin", "main"]);
    reverted = (await g(["rev-parse", "HEAD"])).trim();
    const back = await waitForSource((x) => x.status?.appliedCommit === reverted, "the revert applied");
    expect(ready(back)).toMatchObject({ status: "True", reason: "Applied" });
    expect(imageOf(await shopOnHub())).toBe("shop:2");
  });

  step("an invalid commit leaves the previous state running, and status names the file and the field", async () => {
    const bad = await commit({ "apps/shop.yaml": shop("shop:4", ", progressDeadline: soon") }, "bad field");
    const s = await waitForSource((x) => x.status?.lastFetchedCommit === bad && ready(x)?.reason === "InvalidDocument", "the invalid commit reported");
    expect(ready(s)?.message).toMatch(/apps\/shop\.yaml: spec\.appRevisions\[0\]\.rollout\.progressDeadline: "soon" is not valid/);
    expect(s.status?.appliedCommit).toBe(reverted);
    await new Promise((r) => setTimeout(r, 4_000));
    expect(imageOf(await shopOnHub())).toBe("shop:2");
    expect(await imagesOnMembers()).toEqual(everywhere("shop:2"));
    await waitFor(async () => (await shopOnHub())?.status?.phase === "Healthy", { timeoutMs: 30_000, message: "the shop Healthy at shop:2" });
    // A component type no definition has: only the definitions can tell, and they are asked first.
    const misspelt = await commit({ "apps/shop.yaml": shop("shop:4").replace("type: worker", "type: wokrer") }, "misspelt type");
    const t = await waitForSource((x) => x.status?.lastFetchedCommit === misspelt && ready(x)?.reason === "InvalidDocument", "the misspelt type reported");
    expect(ready(t)?.message).toMatch(/apps\/shop\.yaml: spec\.appRevisions\[0\]\.template\.spec\.components\[0\]\.type: .*wokrer/);
    expect(t.status?.appliedCommit).toBe(reverted);
    expect(imageOf(await shopOnHub())).toBe("shop:2");
    const fixed = await commit({ "apps/shop.yaml": shop("shop:2") }, "fix the shop");
    await waitForSource((x) => x.status?.appliedCommit === fixed && ready(x)?.status === "True", "the fix applied");
  });

  step("reverting a change in Git rolls it back: the AD on the hub is the reverted one, and the controller renders it", async () => {
    const change = await commit({ "apps/shop.yaml": shop("shop:3") }, "shop 3");
    await waitForSource((x) => x.status?.appliedCommit === change, "shop:3 applied");
    await waitForImages("shop:3", "shop:3 on every member");
    await g(["revert", "--no-edit", "HEAD"]);
    await g(["push", "--quiet", "origin", "main"]);
    const revert = (await g(["rev-parse", "HEAD"])).trim();
    await waitForSource((x) => x.status?.appliedCommit === revert && ready(x)?.status === "True", "the revert applied");
    const ad = await shopOnHub();
    expect(imageOf(ad)).toBe("shop:2");
    expect(ad?.metadata.annotations?.["flotilla.dev/source-commit"]).toBe(revert);
    await waitForImages("shop:2", "shop:2 back on every member");
    // Drift correction and the rollout keep to what the source asks for now.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(imageOf(await shopOnHub())).toBe("shop:2");
    expect(await imagesOnMembers()).toEqual(everywhere("shop:2"));
  });

  step("removing the file prunes the deployment, from the hub and then from its clusters", async () => {
    const removed = await commit({ "apps/shop.yaml": null }, "retire the shop");
    const s = await waitForSource((x) => x.status?.appliedCommit === removed, "the removal applied");
    expect(s.status?.inventory ?? []).toEqual([]);
    expect(ready(s)?.message).toContain(`pruned ApplicationDeployment/${ns}/shop`);
    await waitFor(async () => (await shopOnHub()) === undefined, { timeoutMs: 60_000, message: "the AD deleted from the hub" });
    await waitFor(async () => Object.values(await imagesOnMembers()).every((i) => i === undefined), {
      timeoutMs: 90_000,
      intervalMs: 1_000,
      message: "the shop's workloads gone from the members",
    });
  });

  step("a signed webhook starts a change at once; an unsigned or wrongly signed one gets 401 and does nothing", async () => {
    const HOOK_SECRET = "flt-hook-secret-5b8e1f03";
    const hookedApp = (image: string) =>
      shop(image)
        .replace("name: shop\n", "name: hooked\n")
        .replace(/ {4}- \{name: production.*\n/, "");
    const start = await commit({ "hooked/app.yaml": hookedApp("hooked:1") }, "add the hooked app");
    await kubectl("hub", ["-n", ns, "create", "secret", "generic", "hook-secret", `--from-literal=token=${HOOK_SECRET}`]);
    const hooked = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "GitSource",
      metadata: { name: "hooked", namespace: ns },
      // An interval far longer than the test: only the webhook can explain a prompt fetch.
      spec: {
        url: server.url("team.git"),
        ref: { branch: "main" },
        path: "hooked",
        interval: "1h",
        secretRef: { name: "team-git" },
        webhook: { secretRef: { name: "hook-secret" } },
      },
    };
    await kubectl("hub", ["apply", "-f", "-"], { input: toYaml(hooked) });
    const hookedOnHub = async () =>
      (await orAbsent(
        custom().getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace: ns, plural: "applicationdeployments", name: "hooked" }),
      )) as ApplicationDeployment | undefined;
    await waitFor(async () => (await hookedOnHub())?.metadata.annotations?.["flotilla.dev/source-commit"] === start, {
      timeoutMs: 60_000,
      message: "the hooked source's first fetch",
    });
    const line = await controller.logLine((l) => l.msg === "receiving GitSource webhooks at /hooks/<namespace>/<name>");
    const url = `http://127.0.0.1:${line.port as number}/hooks/${ns}/hooked`;
    const pushed = await commit({ "hooked/app.yaml": hookedApp("hooked:2") }, "hooked 2");
    const body = JSON.stringify({ ref: "refs/heads/main", after: pushed });
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", ...headers }, body });
    const unsigned = await post({});
    const forged = await post({ "x-hub-signature-256": `sha256=${createHmac("sha256", "not-the-secret").update(body).digest("hex")}` });
    expect([unsigned.status, forged.status]).toEqual([401, 401]);
    expect(await forged.text()).toBe(await unsigned.text());
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await hookedOnHub())?.metadata.annotations?.["flotilla.dev/source-commit"]).toBe(start);
    const sent = Date.now();
    const signed = await post({ "x-hub-signature-256": `sha256=${createHmac("sha256", HOOK_SECRET).update(body).digest("hex")}` });
    expect(signed.status).toBe(202);
    await waitFor(async () => (await hookedOnHub())?.metadata.annotations?.["flotilla.dev/source-commit"] === pushed, {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: "the pushed commit applied after the signed webhook",
    });
    const tookMs = Date.now() - sent;
    expect(tookMs).toBeLessThan(2_000);
    expect(imageOf(await hookedOnHub())).toBe("hooked:2");
    const log = await readFile(join(root, "controller.log"), "utf8");
    expect(log).not.toContain(HOOK_SECRET);
    await kubectl("hub", ["-n", ns, "delete", "gitsource", "hooked", "--wait=true"]);
    await waitFor(async () => (await hookedOnHub()) === undefined, { timeoutMs: 60_000, message: "the hooked app pruned with its source" });
  });

  step("never puts the token in status or in the controller's log", async () => {
    const s = await source();
    expect(JSON.stringify(s)).not.toContain(TOKEN);
    const log = await readFile(join(root, "controller.log"), "utf8");
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString("base64"));
    expect(log).toContain("GitSource applied");
  });
});
