// Errors of the local fleet. Each says what failed, where its log is, and what to do, so a user
// who only sees the CLI output can act without reading the source.
import { FlotillaError } from "../api/errors.js";

/** Something about the local fleet went wrong (base class of the fleet's errors). */
export class FleetError extends FlotillaError {
  override name = "FleetError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
  }
}

/** etcd, kube-apiserver or kube-controller-manager is not installed and could not be built. */
export class ControlPlaneMissingError extends FleetError {
  override name = "ControlPlaneMissingError";
}

/** A fleet is already running in the directory (its owner process is alive). */
export class FleetAlreadyRunningError extends FleetError {
  override name = "FleetAlreadyRunningError";
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(`a fleet is already running in ${dir} (pid ${pid}). Stop it with \`flotilla fleet down --dir ${dir}\` or use another --dir.`);
    this.pid = pid;
  }
}

/** A control-plane process exited or did not become ready in time. */
export class ProcessStartError extends FleetError {
  override name = "ProcessStartError";
  readonly process: string;
  readonly logFile: string;
  constructor(processName: string, message: string, options: { logFile: string; logTail?: string; cause?: unknown }) {
    const tail = options.logTail ? `\n--- last lines of ${options.logFile} ---\n${options.logTail}` : "";
    super(`${processName}: ${message} (log: ${options.logFile})${tail}`, options);
    this.process = processName;
    this.logFile = options.logFile;
  }
}
