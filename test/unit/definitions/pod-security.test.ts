// The security-context trait: pod and container settings, and profile restricted (Pod Security
// Standards) over every container and init container, whichever trait added them.

import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/api/types.js";
import { aComponent, aComponentDefinition } from "../builders.js";
import { C0, podSpecOf, problemsOf, renderOne } from "./built-in.js";

const RESTRICTED_POD = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

const api = () => aComponent("api", "worker").withSettings({ image: "shop:1" });
const contextsOf = (containers: Array<{ name: string; securityContext?: JsonObject }> = []) =>
  Object.fromEntries(containers.map((c) => [c.name, c.securityContext]));

/** A Deployment given whole (k8s-objects), with a pod spec to break the profile with. */
const rawDeployment = (podSpec: JsonObject) =>
  aComponent("raw", "k8s-objects").withSettings({
    objects: [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "raw-v1" },
        spec: { selector: { matchLabels: { app: "raw" } }, template: { metadata: { labels: { app: "raw" } }, spec: podSpec } },
      },
    ],
  });

describe("security-context with profile: restricted", () => {
  it("covers the pod, the main container, and a sidecar and an init container added by traits listed after it", async () => {
    const pod = podSpecOf(
      await renderOne(
        api()
          .withTrait("security-context", { profile: "restricted" })
          .withTrait("sidecar", { name: "proxy", image: "envoy:1" })
          .withTrait("init-container", { name: "migrate", image: "shop:1" }),
      ),
    );
    expect(pod.securityContext).toEqual(RESTRICTED_POD);
    expect(contextsOf(pod.containers)).toEqual({ api: RESTRICTED_CONTAINER, proxy: RESTRICTED_CONTAINER });
    expect(contextsOf(pod.initContainers)).toEqual({ migrate: RESTRICTED_CONTAINER });
  });

  it.each([
    ["webservice", {}],
    ["worker", {}],
    ["task", {}],
    ["cron-task", { schedule: "@daily" }],
    ["daemon", {}],
    ["stateful", {}],
  ])("covers the pod of a %s", async (type, extra) => {
    const component = aComponent("api", type)
      .withSettings({ image: "shop:1", ...extra })
      .withTrait("security-context", { profile: "restricted" });
    const pod = podSpecOf(await renderOne(component));
    expect(pod.securityContext).toEqual(RESTRICTED_POD);
    expect(contextsOf(pod.containers)).toEqual({ api: RESTRICTED_CONTAINER });
  });

  it("keeps compliant fields given next to the profile, over the profile's values", async () => {
    const pod = podSpecOf(
      await renderOne(
        api().withTrait("security-context", {
          profile: "restricted",
          pod: { runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: "Localhost", localhostProfile: "shop.json" } },
          container: { readOnlyRootFilesystem: true, capabilities: { add: ["NET_BIND_SERVICE"] } },
        }),
      ),
    );
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "Localhost", localhostProfile: "shop.json" },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
    });
  });

  it("gives `container` to the named container only, and the profile to every container", async () => {
    const pod = podSpecOf(
      await renderOne(
        api()
          .withTrait("sidecar", { name: "proxy", image: "envoy:1" })
          .withTrait("security-context", { profile: "restricted", containerName: "proxy", container: { runAsUser: 101 } }),
      ),
    );
    expect(contextsOf(pod.containers)).toEqual({ api: RESTRICTED_CONTAINER, proxy: { ...RESTRICTED_CONTAINER, runAsUser: 101 } });
  });

  it.each([
    ["privileged", { container: { privileged: true } }, "container.privileged: true"],
    ["privilege escalation", { container: { allowPrivilegeEscalation: true } }, "container.allowPrivilegeEscalation: true"],
    [
      "an added capability other than NET_BIND_SERVICE",
      { container: { capabilities: { add: ["NET_BIND_SERVICE", "NET_ADMIN"] } } },
      "container.capabilities.add: NET_ADMIN",
    ],
    ["a drop list without ALL", { container: { capabilities: { drop: ["NET_RAW"] } } }, "container.capabilities.drop without ALL"],
    ["root as the pod's user", { pod: { runAsUser: 0 } }, "pod.runAsUser: 0"],
    ["root as the container's user", { container: { runAsUser: 0 } }, "container.runAsUser: 0"],
    ["runAsNonRoot false", { pod: { runAsNonRoot: false } }, "pod.runAsNonRoot: false"],
    ["an unconfined seccomp profile", { container: { seccompProfile: { type: "Unconfined" } } }, "container.seccompProfile.type: Unconfined"],
  ])("refuses %s next to the profile, naming the field", async (_what, properties, field) => {
    const [problem] = await problemsOf(api().withTrait("security-context", { profile: "restricted", ...properties }));
    expect(problem?.path).toBe(`${C0}.traits[0].properties`);
    expect(problem?.message).toContain(`security-context: profile restricted does not allow ${field}`);
    expect(problem?.message).toContain("Change these fields, or remove the profile");
  });

  it.each([
    ["host networking", { hostNetwork: true, containers: [{ name: "c", image: "x" }] }, "the pod uses hostNetwork"],
    [
      "a hostPath volume",
      { volumes: [{ name: "docker", hostPath: { path: "/var/run" } }], containers: [{ name: "c", image: "x" }] },
      "the pod mounts hostPath volume(s) docker",
    ],
    ["a privileged container", { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] }, "container c is privileged"],
    [
      "an init container adding a capability",
      { containers: [{ name: "c", image: "x" }], initContainers: [{ name: "i", image: "x", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] },
      "container i adds capabilities SYS_ADMIN",
    ],
    ["a host port", { containers: [{ name: "c", image: "x", ports: [{ containerPort: 80, hostPort: 80 }] }] }, "container c uses host ports"],
  ])("refuses a workload that already breaks the profile: %s", async (_what, podSpec, found) => {
    const [problem] = await problemsOf(rawDeployment(podSpec).withTrait("security-context", { profile: "restricted" }));
    expect(problem?.message).toContain(`security-context: profile restricted cannot be met: ${found}`);
  });

  it("accepts a workload's non-compliant field that the trait's own compliant field replaces", async () => {
    const raw = rawDeployment({ containers: [{ name: "c", image: "x", securityContext: { privileged: true, runAsUser: 0 } }] });
    const pod = podSpecOf(await renderOne(raw.withTrait("security-context", { profile: "restricted", container: { privileged: false, runAsUser: 1000 } })));
    expect(pod.containers[0]?.securityContext).toEqual({ ...RESTRICTED_CONTAINER, privileged: false, runAsUser: 1000 });
  });
});

describe("security-context without a profile", () => {
  it("sets the pod's context and every container's, init containers included", async () => {
    const pod = podSpecOf(
      await renderOne(
        api()
          .withTrait("init-container", { name: "migrate", image: "shop:1" })
          .withTrait("security-context", {
            pod: { fsGroup: 2000, supplementalGroups: [3000] },
            container: { readOnlyRootFilesystem: true, privileged: false },
          }),
      ),
    );
    expect(pod.securityContext).toEqual({ fsGroup: 2000, supplementalGroups: [3000] });
    expect(contextsOf(pod.containers)).toEqual({ api: { readOnlyRootFilesystem: true, privileged: false } });
    expect(contextsOf(pod.initContainers)).toEqual({ migrate: { readOnlyRootFilesystem: true, privileged: false } });
  });

  it("allows what the profile would refuse", async () => {
    const pod = podSpecOf(await renderOne(api().withTrait("security-context", { container: { capabilities: { add: ["NET_ADMIN"] } } })));
    expect(pod.containers[0]?.securityContext).toEqual({ capabilities: { add: ["NET_ADMIN"] } });
    expect(pod.securityContext).toBeUndefined();
  });

  it("refuses a containerName the pod does not have, listing the names", async () => {
    const [problem] = await problemsOf(api().withTrait("security-context", { containerName: "proxy", container: { runAsUser: 1 } }));
    expect(problem?.message).toContain('the workload has no container or init container named "proxy"; set containerName to one of: api');
  });

  it.each([
    ["a Localhost profile without its file", { pod: { seccompProfile: { type: "Localhost" } } }, "pod.seccompProfile.type Localhost needs localhostProfile"],
    [
      "a profile file with another type",
      { container: { seccompProfile: { type: "RuntimeDefault", localhostProfile: "x.json" } } },
      "container.seccompProfile.localhostProfile is only read with type Localhost",
    ],
  ])("refuses %s", async (_what, properties, message) => {
    const [problem] = await problemsOf(api().withTrait("security-context", properties));
    expect(problem?.message).toContain(`security-context: ${message}`);
  });

  it("refuses a trait that sets nothing", async () => {
    const [problem] = await problemsOf(api().withTrait("security-context", { containerName: "api" }));
    expect(problem).toEqual(expect.objectContaining({ path: `${C0}.traits[0].properties`, fix: "Give one of: profile, pod, container." }));
  });
});

describe("profile restricted as the default of a platform team's component type", () => {
  const hardened = aComponentDefinition("hardened-worker").withDefaultTrait("security-context", { profile: "restricted" }).build();

  it("applies to a component that lists no security-context, sidecars included", async () => {
    const pod = podSpecOf(
      await renderOne(aComponent("api", "hardened-worker").withSettings({ image: "shop:1" }).withTrait("sidecar", { name: "proxy", image: "envoy:1" }), [
        hardened,
      ]),
    );
    expect(pod.securityContext).toEqual(RESTRICTED_POD);
    expect(contextsOf(pod.containers)).toEqual({ api: RESTRICTED_CONTAINER, proxy: RESTRICTED_CONTAINER });
  });

  it("merges a component's own compliant settings over the default", async () => {
    const component = aComponent("api", "hardened-worker")
      .withSettings({ image: "shop:1" })
      .withTrait("security-context", { container: { readOnlyRootFilesystem: true } });
    const pod = podSpecOf(await renderOne(component, [hardened]));
    expect(pod.containers[0]?.securityContext).toEqual({ ...RESTRICTED_CONTAINER, readOnlyRootFilesystem: true });
  });

  it("refuses a component's own setting that breaks the default profile, at the component's trait", async () => {
    const component = aComponent("api", "hardened-worker")
      .withSettings({ image: "shop:1" })
      .withTrait("security-context", { container: { privileged: true } });
    const [problem] = await problemsOf(component, [hardened]);
    expect(problem?.path).toBe(`${C0}.traits[0].properties`);
    expect(problem?.message).toContain("profile restricted does not allow container.privileged: true");
  });
});
