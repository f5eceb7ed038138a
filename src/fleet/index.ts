// The local fleet: real kube-apiservers on loopback (a hub and member clusters), one etcd,
// kube-controller-managers and a node simulator that stands in for kubelets. See ARCHITECTURE §6.
//
//   const fleet = await startFleet({ dir: ".flotilla" });   // owned by this process
//   ... fleet.members[0].kubeconfigPath ...
//   await fleet.stop();
//
// `startDetachedFleet` runs it in a background supervisor; `stopFleet(dir)` stops that.
export { startDetachedFleet, type DetachedFleetOptions } from "./detach.js";
export { ControlPlaneMissingError, FleetAlreadyRunningError, FleetError, ProcessStartError } from "./errors.js";
export {
  DEFAULT_MEMBERS,
  MEMBER_LABELS,
  memberLabels,
  type RunningFleet,
  type StartFleetOptions,
  startFleet,
  stopFleet,
} from "./fleet.js";
export { type ControlPlaneBinaries, ensureControlPlane, findControlPlane } from "./install.js";
export { fleetPaths, K8S_VERSION } from "./paths.js";
export { type FleetCluster, type FleetInfo, readFleet } from "./state.js";
