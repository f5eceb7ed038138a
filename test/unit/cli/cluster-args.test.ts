// The arguments of `cluster add` and `up --member`: what is accepted, what each mistake is told
// (naming the option and the fix), and the labels a member gets when none are given.

import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ownClustersOf, parseLabel, parseMemberSpec, parseNamespaces } from "../../../src/cli/cluster-args.js";

describe("parseMemberSpec", () => {
  it("reads the name, the kubeconfig, a context and labels in any order after the kubeconfig", () => {
    expect(parseMemberSpec("eu=/k/config,region=eu,context=kind-eu,example.com/tier=gold")).toEqual({
      name: "eu",
      kubeconfig: "/k/config",
      context: "kind-eu",
      labels: { region: "eu", "example.com/tier": "gold" },
    });
  });

  it("labels a member usage=production when no label is given, which the quick start selects", () => {
    expect(parseMemberSpec("us=/k/us.yaml,context=kind-us")).toEqual({
      name: "us",
      kubeconfig: "/k/us.yaml",
      context: "kind-us",
      labels: { usage: "production" },
    });
  });

  it("expands a leading ~/ the shell left alone after NAME=", () => {
    expect(parseMemberSpec("eu=~/.kube/config").kubeconfig).toBe(join(homedir(), ".kube", "config"));
  });

  it.each([
    ["eu", /--member: "eu" does not name a cluster and its kubeconfig; use NAME=KUBECONFIG/],
    ["eu=", /--member: "eu=" does not name a cluster/],
    ["=/k/config", /--member: "=\/k\/config" does not name a cluster/],
    ["Prod_EU=/k/config", /cluster name "Prod_EU" must be a DNS label/],
    ["eu=/k/config,region", /--member eu: "region" is not key=value/],
    ["eu=/k/config,region=eu west", /--member eu: "eu west" is not a valid label value for region/],
    ["eu=/k/config,context=", /--member eu: context= is empty/],
  ])("refuses %j", (text, message) => {
    expect(() => parseMemberSpec(text)).toThrow(message);
  });
});

describe("ownClustersOf", () => {
  it("is the local fleet when neither a hub nor a member is given", () => {
    expect(ownClustersOf({ member: [] })).toBeUndefined();
  });

  it("takes the hub by file or context, and every member", () => {
    expect(ownClustersOf({ hubContext: "kind-hub", member: ["eu=/k/config,context=kind-eu"] })).toEqual({
      hubContext: "kind-hub",
      members: [{ name: "eu", kubeconfig: "/k/config", context: "kind-eu", labels: { usage: "production" } }],
    });
  });

  it("never picks the current context as the hub on its own", () => {
    expect(() => ownClustersOf({ member: ["eu=/k/config"] })).toThrow("--member needs the hub too: pass --hub-kubeconfig FILE and/or --hub-context NAME");
  });

  it("asks for a member when only the hub is given", () => {
    expect(() => ownClustersOf({ hubKubeconfig: "/k/hub", member: [] })).toThrow("name at least one member to deliver to, --member NAME=KUBECONFIG");
  });

  it("refuses two members of one name", () => {
    expect(() => ownClustersOf({ hubKubeconfig: "/k/hub", member: ["eu=/a", "us=/b", "eu=/c"] })).toThrow("--member: eu given more than once");
  });
});

describe("cluster add's labels and namespaces", () => {
  it("accepts prefixed keys and empty values, as the API server does", () => {
    expect(parseLabel("example.com/tier=")).toEqual(["example.com/tier", ""]);
  });

  it("names the option in its error", () => {
    expect(() => parseLabel("usage")).toThrow('--label: "usage" is not key=value');
    expect(() => parseLabel("-bad=1")).toThrow('--label: "-bad" is not a valid label key');
  });

  it("splits, trims and checks namespaces", () => {
    expect(parseNamespaces("team-a, team-b,")).toEqual(["team-a", "team-b"]);
    expect(() => parseNamespaces("team-a,Team_B")).toThrow("--namespaces: Team_B is not a valid namespace name");
    expect(() => parseNamespaces(",")).toThrow("--namespaces: give at least one namespace");
  });
});
