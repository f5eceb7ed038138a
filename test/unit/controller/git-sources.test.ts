// The GitSource loop against fakes of the hub and of Git: what it applies, prunes and writes to
// status, and what it refuses to touch.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { GitError } from "../../../src/api/errors.js";
import type { ApplicationDeployment, GitSource, GitSourceInventoryEntry, GitSourceStatus, Manifest } from "../../../src/api/types.js";
import { GitSourceLoop, type GitSourceLoopOptions, type SourceObjects } from "../../../src/controller/git-sources.js";
import type { Hub, InformerHandlers } from "../../../src/controller/hub.js";
import type { FetchedSource, SourceFetchOptions } from "../../../src/gitops/source-fetch.js";
import { deploymentProblems } from "../../../src/render/deployment-problems.js";
import { aComponentDefinition, registryOf } from "../builders.js";

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);

function adFile(name: string, image = "nginx:1.27", namespace?: string): string {
  return `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: ${name}${namespace ? `, namespace: ${namespace}` : ""}}
spec:
  appRevisions:
    - {name: v1, template: {spec: {components: [{name: web, type: webservice, settings: {image: "${image}"}}]}}}
  placementStrategies: [{clusterSelector: {labels: {usage: production}}}]
`;
}

const entry = (name: string, file: string): GitSourceInventoryEntry => ({
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "ApplicationDeployment",
  name,
  namespace: "team-a",
  file,
});

/** A hub of one namespace: GitSources (watched), other objects by `kind/name`, Secrets. */
class FakeHub {
  handlers: InformerHandlers<GitSource> | undefined;
  sources = new Map<string, GitSource>();
  objects = new Map<string, Manifest>();
  secrets = new Map<string, Record<string, Buffer>>();
  applied: Manifest[] = [];
  deleted: string[] = [];
  statuses: GitSourceStatus[] = [];
  private uid = 0;

  informer() {
    return {
      list: () => [...this.sources.values()],
      get: (name: string) => this.sources.get(name),
      synced: true,
      watching: true,
      stop: async () => undefined,
    };
  }

  put(source: GitSource): void {
    this.sources.set(source.metadata.name, source);
    this.handlers?.onChange(source);
  }

  readonly objectsApi: SourceObjects = {
    get: async (ref) => this.objects.get(`${ref.kind}/${ref.name}`),
    apply: async (object) => {
      const m = structuredClone(object) as unknown as Manifest;
      m.metadata.uid = `uid-${++this.uid}`;
      this.objects.set(`${m.kind}/${m.metadata.name}`, m);
      this.applied.push(m);
    },
    delete: async (ref, uid) => {
      const key = `${ref.kind}/${ref.name}`;
      if (this.objects.get(key)?.metadata.uid !== uid) return false;
      this.objects.delete(key);
      this.deleted.push(key);
      return true;
    },
  };

  readonly writes = {
    writeStatus: async (_ns: string, name: string, status: GitSourceStatus) => {
      this.statuses.push(structuredClone(status));
      const s = this.sources.get(name);
      if (s) this.put({ ...s, status: structuredClone(status) });
    },
    setFinalizers: async (_ns: string, name: string, finalizers: string[]) => {
      const s = this.sources.get(name);
      if (!s) return;
      if (s.metadata.deletionTimestamp && finalizers.length === 0) {
        this.sources.delete(name);
        this.handlers?.onDelete(s);
        return;
      }
      this.put({ ...s, metadata: { ...s.metadata, finalizers } });
    },
    readSecret: async (_ns: string, name: string) => this.secrets.get(name),
  };

  get status(): GitSourceStatus | undefined {
    return this.sources.get("apps")?.status;
  }
}

function aSource(spec: Partial<GitSource["spec"]> = {}, status?: GitSourceStatus): GitSource {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "GitSource",
    metadata: { name: "apps", namespace: "team-a", generation: 1, uid: "src-uid" },
    spec: { url: "https://git.example.com/team-a.git", path: "apps", interval: "1h", ...spec },
    ...(status ? { status } : {}),
  };
}

const loops: GitSourceLoop[] = [];
afterEach(async () => {
  for (const l of loops.splice(0)) await l.stop();
});

function start(
  hub: FakeHub,
  fetch: (o: SourceFetchOptions) => Promise<FetchedSource>,
  concurrency?: number,
  dataDir = "/data",
  extra: Partial<GitSourceLoopOptions> = {},
) {
  const fetches: SourceFetchOptions[] = [];
  const events: Array<{ type: string; reason: string; message: string }> = [];
  const fakeHub = {
    informer: (_kind: string, handlers: InformerHandlers<GitSource>) => {
      hub.handlers = handlers;
      return hub.informer();
    },
  } as unknown as Hub;
  const loop = new GitSourceLoop({
    hub: fakeHub,
    kubeConfig: undefined as never,
    dataDir,
    controllerNamespace: "flotilla-system",
    logger: pino({ level: "silent" }),
    objects: hub.objectsApi,
    writes: hub.writes,
    events: { record: (_t, type, reason, message) => events.push({ type, reason, message }) },
    fetch: async (o) => {
      fetches.push(o);
      return fetch(o);
    },
    random: () => 0.5,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...extra,
  });
  loop.start();
  loops.push(loop);
  return { loop, fetches, events };
}

async function until<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = read();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ready = (s: GitSourceStatus | undefined) => s?.conditions?.find((c) => c.type === "Ready");

describe("GitSourceLoop", () => {
  it("applies a commit, records it in status with its inventory, and holds a finalizer for pruning", async () => {
    const hub = new FakeHub();
    const { fetches, events } = start(hub, async () => ({ commit: C1, downloaded: true, files: [{ path: "apps/web.yaml", text: adFile("web") }] }));
    hub.put(aSource());
    const status = await until(() => (hub.status?.appliedCommit === C1 ? hub.status : undefined), "the commit applied");
    expect(ready(status)).toMatchObject({ status: "True", reason: "Applied", observedGeneration: 1 });
    expect(status.inventory).toEqual([entry("web", "apps/web.yaml")]);
    expect(status.lastFetchedCommit).toBe(C1);
    expect(hub.applied[0]?.metadata.labels?.["flotilla.dev/source"]).toBe("team-a.apps");
    expect(hub.sources.get("apps")?.metadata.finalizers).toEqual(["flotilla.dev/source-prune"]);
    expect(fetches[0]).toMatchObject({
      url: "https://git.example.com/team-a.git",
      ref: { branch: "main" },
      path: "apps",
      mirrorDir: "/data/sources/team-a/apps",
      allowLocal: false,
    });
    expect(events.map((e) => e.reason)).toEqual(["Applied"]);
  });

  it("applies nothing from a refused commit and keeps the applied commit and inventory", async () => {
    const hub = new FakeHub();
    start(hub, async () => ({
      commit: C2,
      downloaded: true,
      files: [{ path: "apps/web.yaml", text: `${adFile("web", "nginx:2")}---\n${adFile("x", "a", "team-b")}` }],
    }));
    hub.put(aSource({}, { appliedCommit: C1, inventory: [entry("web", "apps/web.yaml")] }));
    const status = await until(() => (hub.status?.lastFetchedCommit === C2 ? hub.status : undefined), "the commit fetched");
    expect(ready(status)).toMatchObject({ status: "False", reason: "Refused" });
    expect(ready(status)?.message).toMatch(
      /^commit 222222222222 is not applied \(1 problem; commit 111111111111 stays applied\): apps\/web\.yaml \(document 2\): metadata\.namespace/,
    );
    expect(status.appliedCommit).toBe(C1);
    expect(status.inventory).toEqual([entry("web", "apps/web.yaml")]);
    expect(hub.applied).toEqual([]);
  });

  it("applies nothing from a commit whose deployment the definitions refuse, naming the file and the field", async () => {
    const hub = new FakeHub();
    const registry = registryOf(aComponentDefinition("webservice"));
    const checked: string[] = [];
    const definitionProblems = (ad: ApplicationDeployment) => {
      checked.push(ad.metadata.name);
      return deploymentProblems(ad, registry);
    };
    const misspelt = adFile("api").replace("type: webservice", "type: webservise");
    start(
      hub,
      async () => ({ commit: C2, downloaded: true, files: [{ path: "apps/web.yaml", text: `${adFile("web")}---\n${misspelt}` }] }),
      undefined,
      "/data",
      {
        definitionProblems,
      },
    );
    hub.put(aSource({}, { appliedCommit: C1, inventory: [entry("web", "apps/web.yaml")] }));
    const status = await until(() => (hub.status?.lastFetchedCommit === C2 ? hub.status : undefined), "the commit fetched");
    expect(ready(status)).toMatchObject({ status: "False", reason: "InvalidDocument" });
    expect(ready(status)?.message).toContain("apps/web.yaml");
    expect(ready(status)?.message).toContain("spec.appRevisions[0].template.spec.components[0].type");
    expect(ready(status)?.message).toContain("webservise");
    expect(status.appliedCommit).toBe(C1);
    expect(hub.applied).toEqual([]);
    expect(checked.sort()).toEqual(["api", "web"]);
  });

  it("prunes an object gone from Git only while it carries this source's label", async () => {
    const hub = new FakeHub();
    const labelled = (name: string, source?: string): Manifest => ({
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name, namespace: "team-a", uid: `live-${name}`, ...(source ? { labels: { "flotilla.dev/source": source } } : {}) },
    });
    hub.objects.set("ApplicationDeployment/old", labelled("old", "team-a.apps"));
    hub.objects.set("ApplicationDeployment/relabelled", labelled("relabelled"));
    start(hub, async () => ({ commit: C2, downloaded: true, files: [{ path: "apps/web.yaml", text: adFile("web") }] }));
    hub.put(aSource({}, { appliedCommit: C1, inventory: [entry("old", "apps/old.yaml"), entry("relabelled", "apps/r.yaml"), entry("web", "apps/web.yaml")] }));
    const status = await until(() => (hub.status?.appliedCommit === C2 ? hub.status : undefined), "the commit applied");
    expect(hub.deleted).toEqual(["ApplicationDeployment/old"]);
    expect(hub.objects.has("ApplicationDeployment/relabelled")).toBe(true);
    expect(status.inventory).toEqual([entry("web", "apps/web.yaml")]);
    expect(ready(status)?.message).toContain("pruned ApplicationDeployment/team-a/old");
  });

  it("does not prune with prune: false, and holds no finalizer", async () => {
    const hub = new FakeHub();
    hub.objects.set("ApplicationDeployment/old", {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name: "old", uid: "u", labels: { "flotilla.dev/source": "team-a.apps" } },
    });
    start(hub, async () => ({ commit: C2, downloaded: true, files: [] }));
    hub.put(aSource({ prune: false }, { appliedCommit: C1, inventory: [entry("old", "apps/old.yaml")] }));
    await until(() => (hub.status?.appliedCommit === C2 ? hub.status : undefined), "the commit applied");
    expect(hub.deleted).toEqual([]);
    expect(hub.sources.get("apps")?.metadata.finalizers ?? []).toEqual([]);
  });

  it("refuses to take over an object another source applied", async () => {
    const hub = new FakeHub();
    hub.objects.set("ApplicationDeployment/web", {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name: "web", namespace: "team-a", uid: "u", labels: { "flotilla.dev/source": "team-a.other" } },
    });
    start(hub, async () => ({ commit: C1, downloaded: true, files: [{ path: "apps/web.yaml", text: adFile("web") }] }));
    hub.put(aSource());
    const status = await until(() => (hub.status?.lastFetchedCommit === C1 ? hub.status : undefined), "the commit fetched");
    expect(ready(status)).toMatchObject({ status: "False", reason: "Refused" });
    expect(ready(status)?.message).toContain("apps/web.yaml: metadata.name: ApplicationDeployment/team-a/web belongs to GitSource team-a/other");
    expect(hub.applied).toEqual([]);
  });

  it("reports a failed fetch with its message, keeps what was applied, and passes the Secret's token as credentials", async () => {
    const hub = new FakeHub();
    hub.secrets.set("git", { token: Buffer.from("tok-123456\n") });
    const { fetches, events } = start(hub, async () => {
      throw new GitError("fetch from https://git.example.com/team-a.git failed: the server refused the credentials (HTTP 401)");
    });
    hub.put(aSource({ secretRef: { name: "git" } }, { appliedCommit: C1 }));
    const status = await until(() => (ready(hub.status)?.reason === "FetchFailed" ? hub.status : undefined), "the failure reported");
    expect(status.appliedCommit).toBe(C1);
    expect(ready(status)?.message).toContain("HTTP 401");
    expect(fetches[0]?.credentials).toEqual({ username: "x-access-token", password: "tok-123456" });
    expect(JSON.stringify(hub.statuses)).not.toContain("tok-123456");
    expect(events.map((e) => e.reason)).toEqual(["FetchFailed"]);
  });

  it.each([
    [undefined, /Secret team-a\/git does not exist\. Create it with the key token/],
    [{ user: Buffer.from("x") }, /has neither the key token nor the keys username and password/],
  ])("names the Secret and its keys, never a value, when it is missing or incomplete (%#)", async (data, message) => {
    const hub = new FakeHub();
    if (data) hub.secrets.set("git", data);
    const { fetches } = start(hub, async () => ({ commit: C1, downloaded: true, files: [] }));
    hub.put(aSource({ secretRef: { name: "git" } }));
    const status = await until(() => (ready(hub.status)?.reason === "FetchFailed" ? hub.status : undefined), "the failure reported");
    expect(ready(status)?.message).toMatch(message);
    expect(fetches).toEqual([]);
  });

  it("fetches nothing while suspended", async () => {
    const hub = new FakeHub();
    const { fetches } = start(hub, async () => ({ commit: C1, downloaded: true, files: [] }));
    hub.put(aSource({ suspend: true }));
    const status = await until(() => (ready(hub.status)?.reason === "Suspended" ? hub.status : undefined), "Suspended");
    expect(ready(status)?.status).toBe("False");
    expect(fetches).toEqual([]);
  });

  it("lets a webhook trigger a fetch of a known source only, and reads its shared secret", async () => {
    const hub = new FakeHub();
    hub.secrets.set("hook", { token: Buffer.from("shared"), other: Buffer.from("x") });
    let commit = C1;
    const { loop, fetches } = start(hub, async () => ({ commit, downloaded: true, files: [] }));
    hub.put(aSource({ webhook: { secretRef: { name: "hook" } } }));
    await until(() => hub.status?.appliedCommit === C1, "the first fetch");
    expect(fetches).toHaveLength(1);
    commit = C2;
    expect(loop.trigger("team-a", "nope")).toBe(false);
    expect(loop.trigger("team-a", "apps")).toBe(true);
    await until(() => hub.status?.appliedCommit === C2, "the triggered fetch");
    expect(fetches).toHaveLength(2);
    expect((await loop.webhookSecret("team-a", "apps"))?.toString()).toBe("shared");
    expect(await loop.webhookSecret("team-a", "nope")).toBeUndefined();
    // Answered from what the last pass read: a rotated secret counts from the next pass.
    hub.secrets.set("hook", { token: Buffer.from("rotated") });
    expect((await loop.webhookSecret("team-a", "apps"))?.toString()).toBe("shared");
    const passes = fetches.length;
    loop.trigger("team-a", "apps");
    await until(() => (fetches.length > passes ? true : undefined), "another pass");
    expect((await loop.webhookSecret("team-a", "apps"))?.toString()).toBe("rotated");
    hub.put(aSource({ webhook: { secretRef: { name: "hook", key: "missing" } } }));
    expect(await loop.webhookSecret("team-a", "apps")).toBeUndefined();
  });

  it("runs at most `concurrency` passes at once, and stops without waiting for the ones queued", async () => {
    const hub = new FakeHub();
    let release: (() => void) | undefined;
    const { loop, fetches } = start(
      hub,
      (o) =>
        new Promise<FetchedSource>((resolve) => {
          release = () => resolve({ commit: C1, downloaded: true, files: [] });
          void o;
        }),
      1,
    );
    hub.put(aSource());
    hub.put({ ...aSource(), metadata: { ...aSource().metadata, name: "second" } });
    await until(() => (fetches.length === 1 ? true : undefined), "the first fetch");
    await new Promise((r) => setTimeout(r, 50));
    expect(fetches).toHaveLength(1);
    const stopped = loop.stop();
    release?.();
    await stopped;
    expect(fetches).toHaveLength(1);
  });

  it("deletes its objects when the GitSource is deleted with prune, then releases it and removes its mirror", async () => {
    const hub = new FakeHub();
    const dataDir = await mkdtemp(join(tmpdir(), "flotilla-sources-"));
    const mirror = join(dataDir, "sources", "team-a", "apps");
    await mkdir(mirror, { recursive: true });
    await writeFile(join(mirror, "HEAD"), "ref: refs/heads/main\n");
    start(hub, async () => ({ commit: C1, downloaded: true, files: [{ path: "apps/web.yaml", text: adFile("web") }] }), undefined, dataDir);
    hub.put(aSource());
    await until(() => (hub.status?.appliedCommit === C1 && hub.sources.get("apps")?.metadata.finalizers?.length ? true : undefined), "applied");
    const s = hub.sources.get("apps") as GitSource;
    hub.put({ ...s, metadata: { ...s.metadata, deletionTimestamp: new Date().toISOString() } });
    await until(() => (hub.sources.has("apps") ? undefined : true), "the GitSource released");
    expect(hub.deleted).toEqual(["ApplicationDeployment/web"]);
    await until(() => (existsSync(mirror) ? undefined : true), "the mirror removed");
    expect(existsSync(join(dataDir, "sources", "team-a"))).toBe(true);
    await rm(dataDir, { recursive: true, force: true });
  });
});
