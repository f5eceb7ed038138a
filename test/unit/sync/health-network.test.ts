import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { objectHealth } from "../../../src/sync/health.js";

const an = (apiVersion: string, kind: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): Manifest => ({
  apiVersion,
  kind,
  metadata: { name: "shop", namespace: "team-a" },
  spec,
  status,
});
const address = { loadBalancer: { ingress: [{ ip: "10.0.0.1" }] } };

describe("Service, Ingress and APIService health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a ClusterIP Service is Healthy", an("v1", "Service", { type: "ClusterIP" }), "Healthy"],
    ["a NodePort Service is Healthy", an("v1", "Service", { type: "NodePort" }), "Healthy"],
    ["a LoadBalancer Service waiting for its address is Progressing", an("v1", "Service", { type: "LoadBalancer" }, { loadBalancer: {} }), "Progressing"],
    ["a LoadBalancer Service with an address is Healthy", an("v1", "Service", { type: "LoadBalancer" }, address), "Healthy"],
    ["an Ingress waiting for its address is Progressing", an("networking.k8s.io/v1", "Ingress", {}, { loadBalancer: {} }), "Progressing"],
    ["an Ingress with an address is Healthy", an("networking.k8s.io/v1", "Ingress", {}, address), "Healthy"],
    [
      "an available APIService is Healthy",
      an("apiregistration.k8s.io/v1", "APIService", {}, { conditions: [{ type: "Available", status: "True" }] }),
      "Healthy",
    ],
    [
      "an APIService whose backend is not available is Progressing",
      an("apiregistration.k8s.io/v1", "APIService", {}, { conditions: [{ type: "Available", status: "False", reason: "MissingEndpoints" }] }),
      "Progressing",
    ],
    [
      "a Knative Service (another group) is not judged as a core Service",
      an("serving.knative.dev/v1", "Service", { type: "LoadBalancer" }, { conditions: [{ type: "Ready", status: "True" }] }),
      "Healthy",
    ],
    [
      "a Knative Service not ready yet is Progressing by the kstatus rules",
      an("serving.knative.dev/v1", "Service", {}, { conditions: [{ type: "Ready", status: "False", reason: "RevisionMissing" }] }),
      "Progressing",
    ],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});
