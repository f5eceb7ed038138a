// The built-in `command` trait: command and arguments of one container replaced, appended to or
// pruned, on every workload kind, with a refusal that names the containers the workload has.

import { describe, expect, it } from "vitest";
import { aBuiltin, containerOf, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

const sidecar = { name: "proxy", image: "envoy:1.30", args: ["--quiet", "--port=9901"] };

describe("command", () => {
  it.each(POD_WORKLOADS)("replaces command and args of a %s's main container (%s)", async (type) => {
    const component = aBuiltin(type, { cmd: ["/old"], args: ["--old"] }).withTrait("command", { command: ["/app/server"], args: ["--port=8080"] });
    const main = containerOf(await workload(component));
    expect(main.command).toEqual(["/app/server"]);
    expect(main.args).toEqual(["--port=8080"]);
    expect(main.image).toBe("shop:1.4.2");
  });

  it("changes only what it is given: args stay when only the command is set", async () => {
    const main = containerOf(await workload(aBuiltin("worker", { cmd: ["/old"], args: ["--a"] }).withTrait("command", { command: ["/new"] })));
    expect(main).toMatchObject({ command: ["/new"], args: ["--a"] });
  });

  it("puts the image's own entrypoint back for an empty list", async () => {
    const main = containerOf(await workload(aBuiltin("worker", { cmd: ["/old"], args: ["--a"] }).withTrait("command", { command: [], args: [] })));
    expect(main).not.toHaveProperty("command");
    expect(main).not.toHaveProperty("args");
  });

  it("appends addArgs after the container's args, each once, and removes delArgs", async () => {
    const component = aBuiltin("worker", { args: ["--a", "--quiet", "--b", "--quiet"] }).withTrait("command", {
      addArgs: ["--b", "--verbose"],
      delArgs: ["--quiet"],
    });
    expect(containerOf(await workload(component)).args).toEqual(["--a", "--b", "--verbose"]);
  });

  it("adds args to a container that had none", async () => {
    expect(containerOf(await workload(aBuiltin().withTrait("command", { addArgs: ["--x"] }))).args).toEqual(["--x"]);
  });

  it("changes a sidecar named by containerName and leaves the main container alone", async () => {
    const component = aBuiltin("worker", { args: ["--main"] })
      .withTrait("sidecar", { name: "proxy", image: "envoy:1.30", args: sidecar.args })
      .withTrait("command", { containerName: "proxy", delArgs: ["--quiet"], addArgs: ["--verbose"] });
    const m = await workload(component);
    expect(containerOf(m, "proxy").args).toEqual(["--port=9901", "--verbose"]);
    expect(containerOf(m).args).toEqual(["--main"]);
  });

  it("changes an init container named by containerName", async () => {
    const component = aBuiltin()
      .withTrait("init-container", { name: "migrate", image: "shop-migrate:1.4.2" })
      .withTrait("command", { containerName: "migrate", command: ["/migrate", "up"] });
    const init = ((podSpecOf(await workload(component)).initContainers ?? []) as Array<Record<string, unknown>>).find((c) => c.name === "migrate");
    expect(init?.command).toEqual(["/migrate", "up"]);
  });

  it.each([
    [
      "an unknown container, naming the containers there are",
      { containerName: "nginx", args: [] },
      'command: the workload has no container named "nginx"; set containerName to one of: backend',
    ],
    ["args with addArgs", { args: ["--a"], addArgs: ["--b"] }, "command: args replaces every argument, so it does not go with addArgs or delArgs"],
    ["args with delArgs", { args: ["--a"], delArgs: ["--b"] }, "command: args replaces every argument, so it does not go with addArgs or delArgs"],
    ["nothing to change", { containerName: "backend" }, "command: nothing to change; set command, args, addArgs or delArgs"],
  ])("refuses %s", async (_, properties, message) => {
    const problem = await refusal(aBuiltin().withTrait("command", properties));
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it("refuses an argument that is not a string at its index", async () => {
    const problem = await refusal(aBuiltin().withTrait("command", { args: ["--port", 8080] } as never));
    expect(problem.path).toBe(`${TRAIT()}.properties.args[1]`);
  });
});
