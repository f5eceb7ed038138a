// Health of what routes traffic: core Services, Ingresses and aggregated APIServices. Each is
// Healthy once it can serve: an address assigned, or the aggregated API reported Available.

import type { Manifest } from "../api/types.js";
import { condition, explain, type Health, healthy, joined, obj, progressing } from "./health-common.js";

function hasAddress(live: Manifest): boolean {
  const ingress = obj(obj(live.status).loadBalancer).ingress;
  // Any entry counts: some providers publish an entry before (or without) its ip or hostname.
  return Array.isArray(ingress) && ingress.length > 0;
}

export function serviceHealth(live: Manifest): Health {
  if (obj(live.spec).type !== "LoadBalancer") return healthy();
  return hasAddress(live) ? healthy("load balancer ready") : progressing("waiting for a load-balancer address");
}

export function ingressHealth(live: Manifest): Health {
  return hasAddress(live) ? healthy("address assigned") : progressing("waiting for an ingress controller to assign an address");
}

export function apiServiceHealth(live: Manifest): Health {
  const available = condition(obj(live.status), "Available");
  if (available?.status === "True") return healthy("available");
  return progressing(joined("waiting for the aggregated API to become available", explain(available)));
}
