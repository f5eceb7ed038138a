// The built-in `host-aliases` trait: /etc/hosts entries on every workload kind, merged by IP.

import { describe, expect, it } from "vitest";
import { aBuiltin, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

describe("host-aliases", () => {
  it.each(POD_WORKLOADS)("adds the entries to a %s's pods (%s)", async (type) => {
    const hostAliases = [
      { ip: "10.0.0.12", hostnames: ["ledger.internal", "ledger"] },
      { ip: "fd00::12", hostnames: ["ledger6.internal"] },
    ];
    expect(podSpecOf(await workload(aBuiltin(type).withTrait("host-aliases", { hostAliases }))).hostAliases).toEqual(hostAliases);
  });

  it("joins the names of an IP given twice, each name once, in the order first seen", async () => {
    const component = aBuiltin()
      .withTrait("host-aliases", { hostAliases: [{ ip: "10.0.0.1", hostnames: ["a", "b"] }] })
      .withTrait("host-aliases", {
        hostAliases: [
          { ip: "10.0.0.2", hostnames: ["c"] },
          { ip: "10.0.0.1", hostnames: ["b", "d", "d"] },
        ],
      });
    expect(podSpecOf(await workload(component)).hostAliases).toEqual([
      { ip: "10.0.0.1", hostnames: ["a", "b", "d"] },
      { ip: "10.0.0.2", hostnames: ["c"] },
    ]);
  });

  it.each([
    ["an address that is no IP", [{ ip: "ledger.internal", hostnames: ["a"] }], ".properties.hostAliases[0].ip"],
    ["an IPv4 address out of range", [{ ip: "10.0.0.300", hostnames: ["a"] }], ".properties.hostAliases[0].ip"],
    ["a host name with upper case", [{ ip: "10.0.0.1", hostnames: ["Ledger"] }], ".properties.hostAliases[0].hostnames[0]"],
    ["an entry without names", [{ ip: "10.0.0.1", hostnames: [] }], ".properties.hostAliases[0].hostnames"],
    ["an entry without an IP", [{ hostnames: ["a"] }], ".properties.hostAliases[0].ip"],
    ["no entries", [], ".properties.hostAliases"],
  ])("refuses %s at the field", async (_, hostAliases, path) => {
    expect((await refusal(aBuiltin().withTrait("host-aliases", { hostAliases } as never))).path).toBe(`${TRAIT()}${path}`);
  });
});
