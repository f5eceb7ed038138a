// Free TCP ports on loopback. The fleet never assumes a well-known port (2379, 6443, ...) is
// free: a system etcd or another fleet may hold it.
import net from "node:net";

/**
 * Reserve `count` distinct free ports on 127.0.0.1 by listening on port 0, then release them all
 * at once. Holding every socket until all are chosen guarantees the ports differ from each other;
 * another program could still take one before we use it, which callers handle by retrying.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, host, () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("listening socket has no port");
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
