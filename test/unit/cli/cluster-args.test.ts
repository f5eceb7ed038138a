// The arguments of `cluster add` and `up --member`: what is accepted, what each mistake is told
// (naming the option and the fix), and the labels a member gets when none are given.

import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PULL_CLUSTER_NAME_MAX } from "../../../src/api/pull.js";
import { type AddClusterFlags, ownClustersOf, parseAddClusterArgs, parseLabel, parseMemberSpec, parseNamespaces } from "../../../src/cli/cluster-args.js";

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

describe("cluster add --mode", () => {
  const git = "http://flotilla.example.com:8082/env.git";

  it("is push by default, and needs the member's kubeconfig then", () => {
    expect(parseAddClusterArgs("prod-eu", { kubeconfig: "/k/eu", namespaces: "a,b" })).toEqual({ mode: "Push", kubeconfig: "/k/eu", namespaces: ["a", "b"] });
    expect(() => parseAddClusterArgs("prod-eu", {})).toThrow(/--kubeconfig: required in push mode: the MEMBER's kubeconfig.*Or add --mode pull/);
  });

  it("takes pull with a Git URL and no member kubeconfig (the install is printed), in any case", () => {
    expect(parseAddClusterArgs("edge-1", { mode: "Pull", gitUrl: git })).toEqual({ mode: "Pull", gitUrl: git });
    expect(parseAddClusterArgs("edge-1", { mode: "pull", gitUrl: git, kubeconfig: "/k/edge", hubServer: "https://hub:6443", image: "reg/flotilla:1" })).toEqual(
      { mode: "Pull", gitUrl: git, kubeconfig: "/k/edge", hubServer: "https://hub:6443", image: "reg/flotilla:1" },
    );
  });

  it.each<[string, string, AddClusterFlags, RegExp]>([
    ["an unknown mode", "edge-1", { mode: "poll", gitUrl: git }, /--mode: "poll" is neither push nor pull/],
    [
      "pull without --git-url",
      "edge-1",
      { mode: "pull" },
      /--git-url: required with --mode pull: .*http\(s\):\/\/<hub-controller-address>:8082\/env\.git.*Git remote/,
    ],
    [
      "a Git URL that is not http(s)",
      "edge-1",
      { mode: "pull", gitUrl: "git@github.com:team/env.git" },
      /--git-url: "git@github.com:team\/env.git" is not an http:\/\/ or https:\/\/ URL/,
    ],
    [
      "a hub server that is not a URL",
      "edge-1",
      { mode: "pull", gitUrl: git, hubServer: "hub:6443" },
      /--hub-server: "hub:6443" is not an http:\/\/ or https:\/\/ URL/,
    ],
    ["pull with --namespaces", "edge-1", { mode: "pull", gitUrl: git, namespaces: "team-a" }, /--namespaces: only in push mode.*Drop --namespaces/],
    [
      "pull with --server",
      "edge-1",
      { mode: "pull", gitUrl: git, server: "https://edge:6443" },
      /--server: .*which pull mode never does\. Drop it; --hub-server/,
    ],
    ["push with --git-url", "prod-eu", { kubeconfig: "/k/eu", gitUrl: git }, /--git-url: only with --mode pull.*drop it, or add --mode pull/],
    ["push with --image", "prod-eu", { kubeconfig: "/k/eu", image: "x" }, /--image: only with --mode pull/],
    ["a pull name that is not a DNS label", "Edge_1", { mode: "pull", gitUrl: git }, /cluster name "Edge_1" must be a DNS label/],
  ])("refuses %s, naming the option and the fix", (_what, name, flags, message) => {
    expect(() => parseAddClusterArgs(name, flags)).toThrow(message);
  });

  it("refuses a pull cluster's name too long for its hub namespace, and takes the longest that fits", () => {
    const longest = "e".repeat(PULL_CLUSTER_NAME_MAX);
    expect(parseAddClusterArgs(longest, { mode: "pull", gitUrl: git }).mode).toBe("Pull");
    expect(`flotilla-cluster-${longest}`).toHaveLength(63);
    expect(() => parseAddClusterArgs(`${longest}x`, { mode: "pull", gitUrl: git })).toThrow(
      `cluster name "${longest}x" has ${PULL_CLUSTER_NAME_MAX + 1} characters; a pull cluster's name may have at most ${PULL_CLUSTER_NAME_MAX}, so that its hub namespace flotilla-cluster-<name> stays within 63. Choose a shorter name.`,
    );
    // The same name is fine in push mode, which creates no hub namespace.
    expect(parseAddClusterArgs(`${longest}x`, { kubeconfig: "/k" }).mode).toBe("Push");
  });
});
