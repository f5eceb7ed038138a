import net from "node:net";
import { describe, expect, it } from "vitest";
import { freePorts } from "../../../src/fleet/ports.js";

/** Listen on `port` of 127.0.0.1 and close again; rejects (EADDRINUSE) when something holds it. */
function bindAndRelease(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

describe("freePorts", () => {
  it("returns distinct, currently free loopback ports: each can be bound once it returns", async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    expect(ports.every((p) => p > 1024 && p < 65536)).toBe(true);
    // Another program could take one in between (the callers retry); on a test machine none does.
    for (const port of ports) await expect(bindAndRelease(port)).resolves.toBeUndefined();
  });
});
