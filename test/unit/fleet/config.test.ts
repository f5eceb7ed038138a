import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { apiServerArgs } from "../../../src/fleet/apiserver.js";
import { controllerManagerArgs, HUB_CONTROLLERS } from "../../../src/fleet/controller-manager.js";
import { etcdArgs, etcdEnv } from "../../../src/fleet/etcd.js";
import { memberLabels, validateMembers } from "../../../src/fleet/fleet.js";
import { renderTokenFile } from "../../../src/fleet/keys.js";
import { pemCertificates, renderKubeconfig } from "../../../src/fleet/kubeconfig.js";
import { leaseManifest, microTime, nodeManifest } from "../../../src/fleet/node-object.js";
import { isFleetProcess } from "../../../src/fleet/processes.js";

const CERT = (n: number) => `-----BEGIN CERTIFICATE-----\nQUJD${n}\n-----END CERTIFICATE-----\n`;

describe("renderKubeconfig", () => {
  it("embeds the CA and the token of the cluster's admin", () => {
    const doc = yaml.load(renderKubeconfig({ name: "prod-eu", server: "https://127.0.0.1:1234", token: "t0k", caPem: CERT(1) })) as {
      clusters: Array<{ cluster: Record<string, unknown> }>;
      users: Array<{ name: string; user: { token: string } }>;
      "current-context": string;
    };
    expect(doc["current-context"]).toBe("prod-eu");
    expect(doc.clusters[0]?.cluster.server).toBe("https://127.0.0.1:1234");
    expect(Buffer.from(String(doc.clusters[0]?.cluster["certificate-authority-data"]), "base64").toString()).toBe(CERT(1));
    expect(doc.clusters[0]?.cluster["insecure-skip-tls-verify"]).toBeUndefined();
    expect(doc.users[0]).toEqual({ name: "prod-eu-admin", user: { token: "t0k" } });
  });

  it("skips TLS verification only when no CA is given", () => {
    const doc = yaml.load(renderKubeconfig({ name: "hub", server: "https://127.0.0.1:1", token: "x" })) as {
      clusters: Array<{ cluster: Record<string, unknown> }>;
    };
    expect(doc.clusters[0]?.cluster["insecure-skip-tls-verify"]).toBe(true);
  });

  it("finds the CA as the last certificate of kube-apiserver's bundle", () => {
    expect(pemCertificates(CERT(1) + CERT(2))).toEqual([CERT(1), CERT(2)]);
    expect(pemCertificates("garbage")).toEqual([]);
  });
});

describe("renderTokenFile", () => {
  it("writes token,user,uid and quoted groups", () => {
    expect(
      renderTokenFile([
        { token: "a", user: "admin", uid: "1", groups: ["system:masters", "x"] },
        { token: "b", user: "nobody", uid: "2", groups: [] },
      ]),
    ).toBe('a,admin,1,"system:masters,x"\nb,nobody,2\n');
  });

  it("refuses fields that would break the CSV", () => {
    expect(() => renderTokenFile([{ token: "a,b", user: "u", uid: "1", groups: [] }])).toThrow(/contains/);
  });
});

describe("process flags", () => {
  it("gives each API server its own etcd prefix, loopback only, RBAC and token auth", () => {
    const args = apiServerArgs({
      cluster: "prod-eu",
      port: 4443,
      etcdUrl: "http://127.0.0.1:5555",
      certDir: "/f/state/prod-eu/pki",
      tokenFile: "/f/state/prod-eu/tokens.csv",
      serviceAccountPublicKey: "/f/sa.pub",
      serviceAccountPrivateKey: "/f/sa.key",
    });
    expect(args).toEqual(
      expect.arrayContaining([
        "--etcd-prefix=/registry/prod-eu",
        "--bind-address=127.0.0.1",
        "--secure-port=4443",
        "--insecure-port=0",
        "--authorization-mode=Node,RBAC",
        "--token-auth-file=/f/state/prod-eu/tokens.csv",
        "--service-account-signing-key-file=/f/sa.key",
      ]),
    );
    expect(args.some((a) => a.startsWith("--service-account-issuer="))).toBe(true);
  });

  it("never lets etcd default to the well-known ports 2379/2380", () => {
    const args = etcdArgs({ dataDir: "/f/etcd", clientPort: 40001, peerPort: 40002 });
    expect(args.join(" ")).not.toMatch(/:2379|:2380/);
    for (const flag of ["--listen-client-urls", "--advertise-client-urls", "--listen-peer-urls", "--initial-advertise-peer-urls"]) {
      expect(args.some((a) => a.startsWith(`${flag}=http://127.0.0.1:4000`))).toBe(true);
    }
  });

  it("drops ETCD_* variables that etcd would read as flags", () => {
    expect(etcdEnv({ PATH: "/bin", ETCD_LISTEN_CLIENT_URLS: "http://0.0.0.0:2379" })).toEqual({ PATH: "/bin" });
  });

  it("runs controller managers without serving ports, and the hub with only what it needs", () => {
    const args = controllerManagerArgs({
      cluster: "hub",
      kubeconfig: "/f/hub.kubeconfig",
      serviceAccountPrivateKey: "/f/sa.key",
      rootCaFile: "/f/ca.crt",
      controllers: HUB_CONTROLLERS,
    });
    expect(args).toEqual(expect.arrayContaining(["--port=0", "--secure-port=0", "--leader-elect=false"]));
    expect(args).toContain("--controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token");
  });

  it("looks at autoscalers every 15 s as Kubernetes does, unless the fleet asks for another period", () => {
    const base = { cluster: "prod-eu", kubeconfig: "/f/p.kubeconfig", serviceAccountPrivateKey: "/f/sa.key", rootCaFile: "/f/ca.crt" };
    expect(controllerManagerArgs(base)).toContain("--horizontal-pod-autoscaler-sync-period=15s");
    expect(controllerManagerArgs({ ...base, hpaSyncPeriodSeconds: 5 })).toContain("--horizontal-pod-autoscaler-sync-period=5s");
  });
});

describe("isFleetProcess", () => {
  it.each([
    [["/usr/bin/etcd", "--data-dir=/f/state/etcd"], true],
    [["/cache/bin/kube-apiserver", "--cert-dir=/f/state/hub/pki"], true],
    [["/usr/bin/etcd", "--data-dir=/f2/state/etcd"], false],
    [["/usr/bin/etcd"], false],
    [["/usr/bin/vim", "/f/state/etcd"], false],
  ])("recognises %j as the fleet's in /f: %s", (argv, expected) => {
    expect(isFleetProcess(argv, "/f")).toBe(expected);
  });
});

describe("members", () => {
  it("labels the quickstart members and defaults others to development", () => {
    expect(memberLabels("prod-us")).toEqual({ usage: "production", region: "us" });
    expect(memberLabels("edge-1")).toEqual({ usage: "development" });
  });

  it.each([[["hub"]], [["Prod"]], [["a", "a"]], [[]]])("rejects the member list %j", (members) => {
    expect(() => validateMembers(members)).toThrow();
  });
});

describe("node objects", () => {
  it("registers a Ready node with room for thousands of pods", () => {
    const node = nodeManifest({ name: "n1", now: new Date("2030-01-01T00:00:00.123Z") }) as {
      status: { capacity: Record<string, string>; conditions: Array<{ type: string; status: string; lastHeartbeatTime: string }> };
    };
    expect(Number(node.status.capacity.pods)).toBeGreaterThanOrEqual(5000);
    expect(node.status.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "True", lastHeartbeatTime: "2030-01-01T00:00:00Z" });
  });

  it("renews the lease with a MicroTime", () => {
    expect(microTime(new Date("2030-01-01T00:00:00.123Z"))).toBe("2030-01-01T00:00:00.123000Z");
    expect(leaseManifest("n1", new Date(0))).toMatchObject({ metadata: { namespace: "kube-node-lease", name: "n1" }, spec: { holderIdentity: "n1" } });
  });
});
