// Which token the agent shows to Git: never its hub token to anything but the controller's Git server.

import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { gitToken } from "../../../src/cli/agent.js";

function hubWithToken(token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "hub", server: "https://hub.example.com:6443" }],
    users: [{ name: "agent", token }],
    contexts: [{ name: "agent", cluster: "hub", user: "agent" }],
    currentContext: "agent",
  });
  return kc;
}

describe("the agent's Git token", () => {
  const hub = hubWithToken("hub-sa-token");

  it("is the hub token for the controller's Git server", () => {
    expect(gitToken({ gitUrl: "https://flotilla-git.hub.example.com:8082/env.git" }, hub, {})).toBe("hub-sa-token");
    expect(gitToken({ gitUrl: "http://127.0.0.1:40000/env.git/" }, hub, {})).toBe("hub-sa-token");
  });

  it("is never the hub token for another remote: nothing, or the token given", () => {
    expect(gitToken({ gitUrl: "https://github.com/acme/env.git" }, hub, {})).toBeUndefined();
    expect(gitToken({ gitUrl: "https://github.com/acme/env.git" }, hub, { FLOTILLA_GIT_TOKEN: "ghp-read" })).toBe("ghp-read");
  });

  it("names --git-url and the fix for a URL it cannot read", () => {
    expect(() => gitToken({ gitUrl: "not a url" }, hub, {})).toThrow(/--git-url: "not a url" is not a URL; pass the controller's Git server/);
  });
});
