import { describe, expect, it } from "vitest";
import { freePorts } from "../../../src/fleet/ports.js";

describe("freePorts", () => {
  it("returns distinct, currently free loopback ports", async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    expect(ports.every((p) => p > 1024 && p < 65536)).toBe(true);
  });
});
