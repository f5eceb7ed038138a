// The built-in definitions' environment variables: plain values, valueFrom (Secret, ConfigMap,
// pod field, container resource) and envFrom, in the component settings and in the env trait.

import { describe, expect, it } from "vitest";
import type { JsonObject, Manifest } from "../../../src/api/types.js";
import { aComponent } from "../builders.js";
import { C0, type Container, podSpecOf, problemsOf, renderOne } from "./built-in.js";

const mainOf = (m: Manifest): Container => podSpecOf(m).containers.find((c) => c.name === "api")!;

const secret = { valueFrom: { secretKeyRef: { name: "db", key: "password", optional: true } } };
const config = { valueFrom: { configMapKeyRef: { name: "app", key: "mode" } } };
const field = { valueFrom: { fieldRef: { fieldPath: "status.podIP" } } };
const resource = { valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } };

describe("env in the settings of the built-in components", () => {
  const extra: Record<string, JsonObject> = {
    webservice: {},
    worker: {},
    task: {},
    "cron-task": { schedule: "@daily" },
    daemon: {},
    stateful: {},
  };

  it.each(Object.keys(extra))("%s renders values and every valueFrom kind, sorted by name, and envFrom in order", async (type) => {
    const workload = await renderOne(
      aComponent("api", type).withSettings({
        image: "shop:1",
        ...extra[type],
        env: { PLAIN: "x", DB_PASSWORD: secret, MODE: config, POD_IP: field, MEMORY_MB: resource },
        envFrom: [{ secretRef: { name: "tokens" } }, { configMapRef: { name: "flags", optional: true }, prefix: "FLAG_" }],
      }),
    );
    expect(mainOf(workload).env).toEqual([
      { name: "DB_PASSWORD", ...secret },
      { name: "MEMORY_MB", ...resource },
      { name: "MODE", ...config },
      { name: "PLAIN", value: "x" },
      { name: "POD_IP", ...field },
    ]);
    expect(mainOf(workload).envFrom).toEqual([{ secretRef: { name: "tokens" } }, { configMapRef: { name: "flags", optional: true }, prefix: "FLAG_" }]);
  });

  it("renders no env and no envFrom when none are given", async () => {
    const main = mainOf(await renderOne(aComponent("api", "worker").withSettings({ image: "shop:1" })));
    expect(main.env).toBeUndefined();
    expect(main.envFrom).toBeUndefined();
  });

  it.each([
    ["a number instead of a value", { N: 42 }, `${C0}.settings.env.N`, /must be string or object \(got 42\)/],
    ["an object without valueFrom", { N: { secretKeyRef: { name: "db", key: "k" } } }, `${C0}.settings.env.N.valueFrom`, /is required/],
    ["a source Kubernetes does not know", { N: { valueFrom: { vaultRef: { path: "x" } } } }, `${C0}.settings.env.N.valueFrom.vaultRef`, /is not a known field/],
    [
      "two sources at once",
      { N: { valueFrom: { secretKeyRef: { name: "db", key: "k" }, fieldRef: { fieldPath: "metadata.name" } } } },
      `${C0}.settings.env.N.valueFrom`,
      /must have at most 1 field/,
    ],
    ["no source", { N: { valueFrom: {} } }, `${C0}.settings.env.N.valueFrom`, /must have at least 1 field/],
    [
      "a Secret reference without a key",
      { N: { valueFrom: { secretKeyRef: { name: "db" } } } },
      `${C0}.settings.env.N.valueFrom.secretKeyRef.key`,
      /is required/,
    ],
    [
      "an unknown resource",
      { N: { valueFrom: { resourceFieldRef: { resource: "limits.gpu" } } } },
      `${C0}.settings.env.N.valueFrom.resourceFieldRef.resource`,
      /is not valid/,
    ],
  ])("refuses %s with the field path", async (_what, env, path, message) => {
    const found = await problemsOf(aComponent("api", "worker").withSettings({ image: "shop:1", env: env as JsonObject }));
    expect(found).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(message) }));
  });

  it("names the known sources in the fix for two sources", async () => {
    const env = { N: { valueFrom: { secretKeyRef: { name: "db", key: "k" }, configMapKeyRef: { name: "c", key: "k" } } } };
    const [problem] = await problemsOf(aComponent("api", "worker").withSettings({ image: "shop:1", env }));
    expect(problem?.fix).toBe("Keep only one of: secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef.");
  });

  it.each([
    ["an envFrom entry with neither source", [{ prefix: "X_" }], `${C0}.settings.envFrom[0]`, "Give one of: secretRef, configMapRef."],
    [
      "an envFrom entry with both sources",
      [{ secretRef: { name: "a" }, configMapRef: { name: "b" } }],
      `${C0}.settings.envFrom[0]`,
      "Keep only one of: secretRef, configMapRef.",
    ],
  ])("refuses %s and says which field to give", async (_what, envFrom, path, fix) => {
    const found = await problemsOf(aComponent("api", "worker").withSettings({ image: "shop:1", envFrom: envFrom as JsonObject[] }));
    expect(found).toContainEqual(expect.objectContaining({ path, fix }));
  });
});

describe("the env trait", () => {
  const base = () =>
    aComponent("api", "worker").withSettings({ image: "shop:1", env: { A: "component", B: secret }, envFrom: [{ secretRef: { name: "own" } }] });

  it("sets a Secret reference that used to be refused as not a string", async () => {
    const main = mainOf(
      await renderOne(
        aComponent("api", "worker")
          .withSettings({ image: "shop:1" })
          .withTrait("env", { env: { DB_PASSWORD: secret } }),
      ),
    );
    expect(main.env).toEqual([{ name: "DB_PASSWORD", ...secret }]);
  });

  it("replaces a variable of the same name whole, value by valueFrom and back, and keeps the others", async () => {
    const main = mainOf(await renderOne(base().withTrait("env", { env: { A: field, B: "plain", C: config } })));
    expect(main.env).toEqual([
      { name: "A", ...field },
      { name: "B", value: "plain" },
      { name: "C", ...config },
    ]);
  });

  it("replaces one source by another without keeping fields of the old one", async () => {
    const main = mainOf(await renderOne(base().withTrait("env", { env: { B: { valueFrom: { secretKeyRef: { name: "other", key: "k" } } } } })));
    expect(main.env?.find((e) => e.name === "B")).toEqual({ name: "B", valueFrom: { secretKeyRef: { name: "other", key: "k" } } });
  });

  it("adds envFrom sources after the container's own", async () => {
    const main = mainOf(await renderOne(base().withTrait("env", { envFrom: [{ configMapRef: { name: "extra" }, prefix: "X_" }] })));
    expect(main.envFrom).toEqual([{ secretRef: { name: "own" } }, { configMapRef: { name: "extra" }, prefix: "X_" }]);
    expect(main.env?.map((e) => e.name)).toEqual(["A", "B"]);
  });

  it("sets variables on an init container named by containerName", async () => {
    const workload = await renderOne(
      aComponent("api", "worker")
        .withSettings({ image: "shop:1" })
        .withTrait("init-container", { name: "migrate", image: "shop:1" })
        .withTrait("env", { containerName: "migrate", env: { DB_PASSWORD: secret } }),
    );
    expect(podSpecOf(workload).initContainers?.[0]?.env).toEqual([{ name: "DB_PASSWORD", ...secret }]);
  });

  it("refuses a trait with neither env nor envFrom", async () => {
    const found = await problemsOf(aComponent("api", "worker").withSettings({ image: "shop:1" }).withTrait("env", { containerName: "api" }));
    expect(found).toEqual([expect.objectContaining({ path: `${C0}.traits[0].properties`, fix: "Give one of: env, envFrom." })]);
  });
});
