// The local fleet's web-UI identities: what `flotilla up` creates on the hub, and the sign-in link.

import { describe, expect, it } from "vitest";
import { signInLink, uiIdentityManifests, uiUsername } from "../../../src/ui/server/identities.js";

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

function rulesOf(role: string): Rule[] {
  const cr = uiIdentityManifests().find((m) => m.kind === "ClusterRole" && m.metadata.name === `flotilla-ui-${role}`) as unknown as { rules: Rule[] };
  return cr.rules;
}

describe("uiIdentityManifests", () => {
  it("lets the viewer read Flotilla's resources and Events, and nothing else", () => {
    const rules = rulesOf("viewer");
    expect(rules.flatMap((r) => r.verbs)).not.toContain("patch");
    expect(rules).toContainEqual({ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] });
    expect(rules.find((r) => r.apiGroups[0] === "flotilla.dev")?.resources).toEqual([
      "applicationdeployments",
      "clusters",
      "componentdefinitions",
      "traitdefinitions",
    ]);
  });

  it("lets the operator patch ApplicationDeployments (the rollout actions) besides", () => {
    expect(rulesOf("operator")).toContainEqual({ apiGroups: ["flotilla.dev"], resources: ["applicationdeployments"], verbs: ["patch"] });
  });

  it("binds each role to its ServiceAccount and asks the hub for a token Secret of it", () => {
    const m = uiIdentityManifests();
    const secret = m.find((x) => x.kind === "Secret" && x.metadata.name === "operator-token") as unknown as {
      type: string;
      metadata: { annotations: Record<string, string> };
    };
    expect(secret.type).toBe("kubernetes.io/service-account-token");
    expect(secret.metadata.annotations["kubernetes.io/service-account.name"]).toBe("operator");
    const binding = m.find((x) => x.kind === "ClusterRoleBinding" && x.metadata.name === "flotilla-ui-viewer") as unknown as { subjects: unknown[] };
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "viewer", namespace: "flotilla-ui" }]);
    expect(uiUsername("viewer")).toBe("system:serviceaccount:flotilla-ui:viewer");
  });

  it("makes a sign-in link to the hash route, the token URL-encoded", () => {
    expect(signInLink("http://127.0.0.1:8081", "a.b+c/d")).toBe("http://127.0.0.1:8081/#/signin?token=a.b%2Bc%2Fd");
  });
});
