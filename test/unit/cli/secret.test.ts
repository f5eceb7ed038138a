// `flotilla secret seal` and `rekey` with the hub's keys injected: values go to exactly the target
// clusters' recipients plus the hub's rekey recipient, whichever way the targets are named; a
// cluster without a published key is an error naming it; rekey re-seals for the clusters the
// placement selects now and keeps the rest of the file; no output or error ever holds a value.

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { Cluster, ComponentSpec } from "../../../src/api/types.js";
import { parseLiteral, readFromFile, rekeyCommand, type SealFlags, sealCommand } from "../../../src/cli/secret.js";
import { generateKeyPair, UnsealError, unseal } from "../../../src/secrets/age.js";
import type { SealingSource } from "../../../src/secrets/sealing.js";

type Pair = { identity: string; recipient: string };
const PLAIN = "pl41ntext-never-shown";
let keys: Record<"eu" | "us" | "asia" | "rekey", Pair>;

beforeAll(async () => {
  keys = { eu: await generateKeyPair(), us: await generateKeyPair(), asia: await generateKeyPair(), rekey: await generateKeyPair() };
});

function cluster(name: "eu" | "us" | "asia" | "bare", labels: Record<string, string>): Cluster {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "Cluster",
    metadata: { name, labels },
    spec: {},
    ...(name === "bare" ? {} : { status: { sealing: { recipient: keys[name].recipient, since: "2026-12-03T10:00:00Z" } } }),
  };
}

function fleet(): Cluster[] {
  return [
    cluster("eu", { usage: "production", region: "eu" }),
    cluster("us", { usage: "production", region: "us" }),
    cluster("asia", { usage: "staging", region: "asia" }),
  ];
}

function source(clusters: Cluster[], asked: string[] = []): SealingSource {
  return {
    clusters: async () => clusters,
    rekeyRecipient: async () => keys.rekey.recipient,
    rekeyIdentity: async () => {
      asked.push("identity");
      return keys.rekey.identity;
    },
  };
}

const flags = (more: Partial<SealFlags>): SealFlags => ({ name: "db", fromLiteral: [`password=${PLAIN}`], fromFile: [], cluster: [], output: "yaml", ...more });

function componentOf(text: string): ComponentSpec {
  const [c] = yaml.load(text) as ComponentSpec[];
  return c as ComponentSpec;
}

async function opens(armored: string, identity: string): Promise<string | "not-a-recipient"> {
  try {
    return new TextDecoder().decode(await unseal(armored, identity));
  } catch (e) {
    if (e instanceof UnsealError && e.reason === "not-a-recipient") return "not-a-recipient";
    throw e;
  }
}

type App = { metadata: unknown; spec: { appRevisions: Array<{ template: { spec: { components: ComponentSpec[] } } }> } };
const componentsOf = (text: string) => (yaml.loadAll(text)[0] as App).spec.appRevisions[0]?.template.spec.components ?? [];

const data = (c: ComponentSpec) => (c.settings?.data ?? {}) as Record<string, string>;

describe("flotilla secret seal", () => {
  it("seals to the named clusters and the rekey key, and to no other cluster, as a sealed-secret list item", async () => {
    const text = await sealCommand(flags({ cluster: ["us", "eu"] }), source(fleet()));
    expect(text.startsWith("- name: db\n")).toBe(true);
    expect(text).not.toContain(PLAIN);
    const c = componentOf(text);
    expect(c.type).toBe("sealed-secret");
    expect(c.settings?.recipients).toEqual([keys.eu.recipient, keys.us.recipient, keys.rekey.recipient]);
    const value = data(c).password as string;
    expect(value).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(await opens(value, keys.eu.identity)).toBe(PLAIN);
    expect(await opens(value, keys.us.identity)).toBe(PLAIN);
    expect(await opens(value, keys.rekey.identity)).toBe(PLAIN);
    expect(await opens(value, keys.asia.identity)).toBe("not-a-recipient");
  });

  it("selects the clusters by labels with --selector", async () => {
    const c = componentOf(await sealCommand(flags({ selector: "usage=production" }), source(fleet())));
    expect(c.settings?.recipients).toEqual([keys.eu.recipient, keys.us.recipient, keys.rekey.recipient]);
    const one = componentOf(await sealCommand(flags({ selector: "usage=production,region=us" }), source(fleet())));
    expect(one.settings?.recipients).toEqual([keys.us.recipient, keys.rekey.recipient]);
  });

  it("seals for the clusters a deployment's placement selects in any wave with --deployment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "seal-"));
    const app = join(dir, "app.yaml");
    await writeFile(
      app,
      `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: shop, namespace: team-a}
spec:
  appRevisions:
    - name: v1
      template: {spec: {components: [{name: web, type: webservice, settings: {image: nginx}}]}}
  placementStrategies:
    - name: staging
      clusterSelector: {labels: {usage: staging}}
    - name: eu
      clusterSelector: {labels: {region: eu}}
`,
    );
    const c = componentOf(await sealCommand(flags({ deployment: app }), source(fleet())));
    expect(c.settings?.recipients).toEqual([keys.asia.recipient, keys.eu.recipient, keys.rekey.recipient]);
    expect(await opens(data(c).password as string, keys.us.identity)).toBe("not-a-recipient");
  });

  it("names every target cluster without a published key and what to do, and seals nothing", async () => {
    const error = await sealCommand(flags({ cluster: ["eu", "bare"] }), source([...fleet(), cluster("bare", {})])).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("no sealing key published for cluster bare");
    expect((error as Error).message).toContain("flotilla cluster list -o wide");
    expect((error as Error).message).not.toContain(PLAIN);
  });

  it("refuses a cluster the hub does not have, an empty selection, and a choice of more or less than one target kind", async () => {
    await expect(sealCommand(flags({ cluster: ["mars"] }), source(fleet()))).rejects.toThrow(/no Cluster mars on the hub \(it has: asia, eu, us\)/);
    await expect(sealCommand(flags({ selector: "usage=none" }), source(fleet()))).rejects.toThrow(/selects no cluster/);
    await expect(sealCommand(flags({ cluster: ["eu"], selector: "usage=production" }), source(fleet()))).rejects.toThrow(/exactly one of/);
    await expect(sealCommand(flags({}), source(fleet()))).rejects.toThrow(/exactly one of/);
  });

  it.each([
    ["pass word", /may hold only letters/],
    ["..hidden", /must not be/],
    ["", /expected KEY=VALUE/],
  ])("refuses the data key %j without showing the value", (key, message) => {
    let error: unknown;
    try {
      parseLiteral(`${key}=${PLAIN}`, 0);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(PLAIN);
  });

  it("accepts the keys Kubernetes accepts, and a value containing '='", () => {
    const [key, value] = parseLiteral(`tls.crt_-1=a=b`, 0);
    expect(key).toBe("tls.crt_-1");
    expect(new TextDecoder().decode(value)).toBe("a=b");
  });

  it("refuses a literal without '=' without echoing it", () => {
    expect(() => parseLiteral(PLAIN, 2)).toThrow("--from-literal #3: expected KEY=VALUE (the value is not shown)");
  });

  it("reads --from-file as bytes under KEY, or the file's name, and seals them unchanged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "seal-"));
    const bytes = new Uint8Array([0, 255, 10, 13, 128, 7]);
    await writeFile(join(dir, "key.bin"), bytes);
    expect((await readFromFile(join(dir, "key.bin")))[0]).toBe("key.bin");
    const [key, read] = await readFromFile(`blob=${join(dir, "key.bin")}`);
    expect(key).toBe("blob");
    expect([...read]).toEqual([...bytes]);
    const c = componentOf(await sealCommand(flags({ fromLiteral: [], fromFile: [`blob=${join(dir, "key.bin")}`], cluster: ["eu"] }), source(fleet())));
    expect([...(await unseal(data(c).blob as string, keys.eu.identity))]).toEqual([...bytes]);
    await expect(readFromFile(join(dir, "absent"))).rejects.toThrow(/cannot read .*absent \(ENOENT\)/);
  });

  it("prints the component itself with -o json, with the Secret type when given, and refuses a key given twice", async () => {
    const c = JSON.parse(await sealCommand(flags({ cluster: ["eu"], output: "json", type: "kubernetes.io/basic-auth" }), source(fleet())));
    expect(Object.keys(c).sort()).toEqual(["name", "settings", "type"]);
    expect(c.settings.type).toBe("kubernetes.io/basic-auth");
    expect(Object.keys(c.settings.data)).toEqual(["password"]);
    await expect(sealCommand(flags({ cluster: ["eu"], fromLiteral: ["a=1", "a=2"] }), source(fleet()))).rejects.toThrow('data key "a" is given twice');
    await expect(sealCommand(flags({ cluster: ["eu"], name: "Not_A_Name" }), source(fleet()))).rejects.toThrow(/must be a valid Secret name/);
  });
});

/** An AD whose placement selects usage=production, with the given sealed component and a second document. */
function appFile(component: ComponentSpec): string {
  const ad = {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "shop", namespace: "team-a", labels: { team: "a" } },
    spec: {
      appRevisions: [
        { name: "v1", template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "nginx:1.27", port: 80 } }, component] } } },
      ],
      placementStrategies: [{ name: "prod", clusterSelector: { labels: { usage: "production" } } }],
    },
  };
  return `# the team's app\n${yaml.dump(ad)}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: "1"}\n`;
}

describe("flotilla secret rekey", () => {
  it("re-seals for a cluster that joined the placement, opening values with the rekey key, and keeps the rest of the file", async () => {
    // Sealed when only eu was in production.
    const before = fleet().map((c) => (c.metadata.name === "us" ? { ...c, metadata: { ...c.metadata, labels: { usage: "staging" } } } : c));
    const sealed = componentOf(await sealCommand(flags({ selector: "usage=production", fromLiteral: [`password=${PLAIN}`, "user=admin"] }), source(before)));
    expect(await opens(data(sealed).password as string, keys.us.identity)).toBe("not-a-recipient");
    // us joins production: rekey.
    const result = await rekeyCommand(appFile(sealed), "app.yaml", source(fleet()));
    expect(result.changed).toBe(true);
    expect(result.lines).toEqual(["team-a/shop: db (spec.appRevisions[0].template.spec.components[1]): 2 value(s) re-sealed"]);
    expect(result.text).not.toContain(PLAIN);
    const [ad, other] = yaml.loadAll(result.text) as [App, unknown];
    const [web, db] = componentsOf(result.text);
    expect(web).toEqual({ name: "web", type: "webservice", settings: { image: "nginx:1.27", port: 80 } });
    expect(ad.metadata).toEqual({ name: "shop", namespace: "team-a", labels: { team: "a" } });
    expect(other).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other" }, data: { a: "1" } });
    expect(db?.settings?.recipients).toEqual([keys.eu.recipient, keys.us.recipient, keys.rekey.recipient]);
    for (const who of [keys.eu, keys.us, keys.rekey]) expect(await opens(data(db as ComponentSpec).password as string, who.identity)).toBe(PLAIN);
    expect(await opens(data(db as ComponentSpec).user as string, keys.us.identity)).toBe("admin");
    expect(await opens(data(db as ComponentSpec).password as string, keys.asia.identity)).toBe("not-a-recipient");
  });

  it("leaves components whose recorded recipients are current alone, without reading the rekey key; --force re-seals them", async () => {
    const sealed = componentOf(await sealCommand(flags({ selector: "usage=production" }), source(fleet())));
    const asked: string[] = [];
    const again = await rekeyCommand(appFile(sealed), "app.yaml", source(fleet(), asked));
    expect(again.changed).toBe(false);
    expect(asked).toEqual([]);
    expect(again.lines[0]).toContain("recipients already current, unchanged");
    const forced = await rekeyCommand(appFile(sealed), "app.yaml", source(fleet(), asked), { force: true });
    expect(forced.changed).toBe(true);
    expect(asked).toEqual(["identity"]);
    const db = componentsOf(forced.text)[1] as ComponentSpec;
    expect(data(db).password).not.toBe(data(sealed).password);
    expect(await opens(data(db).password as string, keys.us.identity)).toBe(PLAIN);
  });

  it("says which value was not sealed to the rekey key, without showing it", async () => {
    const { seal } = await import("../../../src/secrets/age.js");
    const component: ComponentSpec = { name: "db", type: "sealed-secret", settings: { data: { password: await seal(PLAIN, [keys.eu.recipient]) } } };
    const error = await rekeyCommand(appFile(component), "app.yaml", source(fleet())).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      "team-a/shop: spec.appRevisions[0].template.spec.components[1].settings.data.password was not sealed to the hub's rekey key, so it cannot be re-sealed without a cluster's key; seal it again with flotilla secret seal",
    );
  });

  it("refuses a plaintext value in a sealed-secret component without echoing it", async () => {
    const component: ComponentSpec = { name: "db", type: "sealed-secret", settings: { data: { password: PLAIN } } };
    const error = await rekeyCommand(appFile(component), "app.yaml", source(fleet())).catch((e: Error) => e);
    expect((error as Error).message).toContain("settings.data.password is not a sealed value");
    expect((error as Error).message).not.toContain(PLAIN);
  });

  it("names the clusters of the placement that have no key yet", async () => {
    const sealed = componentOf(await sealCommand(flags({ cluster: ["eu"] }), source(fleet())));
    const joined = [...fleet(), cluster("bare", { usage: "production" })];
    await expect(rekeyCommand(appFile(sealed), "app.yaml", source(joined))).rejects.toThrow(/no sealing key published for cluster bare/);
  });
});
