// The built-in `container-image` trait: one container's image (and pull policy) changed on every
// workload kind, the rest of the component untouched, and a refusal naming the containers there are.

import { describe, expect, it } from "vitest";
import { aBuiltin, containerOf, POD_WORKLOADS, podSpecOf, refusal, render, TRAIT, workload } from "./builtin.js";

describe("container-image", () => {
  it.each(POD_WORKLOADS)("changes the image of a %s's main container (%s) and nothing else", async (type) => {
    const settings = { cmd: ["/app/server"], env: { LOG: "debug" }, imagePullPolicy: "Always" };
    const before = containerOf(await workload(aBuiltin(type, settings)));
    const after = containerOf(await workload(aBuiltin(type, settings).withTrait("container-image", { image: "mirror.example.com/shop:1.4.2" })));
    expect(after).toEqual({ ...before, image: "mirror.example.com/shop:1.4.2" });
  });

  it("sets the pull policy when given", async () => {
    const main = containerOf(await workload(aBuiltin().withTrait("container-image", { image: "shop:1.5.0", imagePullPolicy: "IfNotPresent" })));
    expect(main).toMatchObject({ image: "shop:1.5.0", imagePullPolicy: "IfNotPresent" });
  });

  it("changes a sidecar by containerName and leaves the main container's image", async () => {
    const component = aBuiltin()
      .withTrait("sidecar", { name: "proxy", image: "envoy:1.29" })
      .withTrait("container-image", { containerName: "proxy", image: "envoy:1.30" });
    const m = await workload(component);
    expect(containerOf(m, "proxy").image).toBe("envoy:1.30");
    expect(containerOf(m).image).toBe("shop:1.4.2");
  });

  it("changes an init container by containerName", async () => {
    const component = aBuiltin()
      .withTrait("init-container", { name: "migrate", image: "migrate:1" })
      .withTrait("container-image", { containerName: "migrate", image: "migrate:2" });
    const inits = podSpecOf(await workload(component)).initContainers as Array<Record<string, unknown>>;
    expect(inits.find((c) => c.name === "migrate")?.image).toBe("migrate:2");
  });

  it("refuses a container the workload does not have, naming the containers and init containers it has", async () => {
    const component = aBuiltin()
      .withTrait("sidecar", { name: "proxy", image: "envoy:1.29" })
      .withTrait("init-container", { name: "migrate", image: "migrate:1" })
      .withTrait("container-image", { containerName: "envoy", image: "envoy:1.30" });
    const problem = await refusal(component);
    expect(problem.path).toBe(`${TRAIT(2)}.properties`);
    expect(problem.message).toContain(
      'container-image: the workload has no container named "envoy"; set containerName to one of: backend, proxy (init containers: migrate)',
    );
  });

  it.each([
    ["no image", {}, ".properties.image"],
    ["an empty image", { image: "" }, ".properties.image"],
    ["an image with a space", { image: "shop 1.4" }, ".properties.image"],
    ["an unknown pull policy", { image: "shop:1", imagePullPolicy: "Sometimes" }, ".properties.imagePullPolicy"],
  ])("refuses %s at the field", async (_, properties, path) => {
    expect((await refusal(aBuiltin().withTrait("container-image", properties))).path).toBe(`${TRAIT()}${path}`);
  });

  it("moves the app.kubernetes.io/version label with the main container's image", async () => {
    const m = await workload(aBuiltin().withTrait("container-image", { image: "mirror.example.com/shop:1.5.0" }));
    expect(m.metadata.labels?.["app.kubernetes.io/version"]).toBe("1.5.0");
  });

  it("leaves the other objects of the component as they were", async () => {
    const settings = { ports: [{ port: 8080, expose: true }] };
    const service = (await render(aBuiltin("webservice", settings))).find((m) => m.kind === "Service");
    const changed = (await render(aBuiltin("webservice", settings).withTrait("container-image", { image: "shop:2.0.0" }))).find((m) => m.kind === "Service");
    expect(changed?.spec).toEqual(service?.spec);
  });
});
