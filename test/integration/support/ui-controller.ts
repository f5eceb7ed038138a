// A controller process serving the web UI on the shared fleet, with the local fleet's viewer and
// operator identities: what the UI's integration tests start. The definitions and the members are
// installed as `flotilla up` installs them; the UI listens on a free loopback port.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinDefinitionsDir } from "../../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../../src/cli/install.js";
import { createUiIdentities, type UiIdentity } from "../../../src/ui/server/identities.js";
import { type ControllerProcess, spawnController } from "./controller-process.js";
import { hub, kubeConfig, members } from "./fleet.js";

export interface UiController {
  controller: ControllerProcess;
  /** `http://127.0.0.1:<port>` of the UI. */
  base: string;
  viewer: UiIdentity;
  operator: UiIdentity;
  /** The controller's data directory and log live here. */
  root: string;
  /** Stops the controller; keeps `root` (and says where) when `keep`, for a failed test's post-mortem. */
  stop(keep: boolean): Promise<void>;
}

export async function startUiController(name: string): Promise<UiController> {
  const kc = kubeConfig("hub");
  await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
  await registerClusterFiles(kc, members());
  const identities = await createUiIdentities(kc);
  const root = await mkdtemp(join(tmpdir(), `flotilla-${name}-`));
  const controller = spawnController({
    kubeconfig: hub().kubeconfigPath,
    dataDir: join(root, "controller"),
    logFile: join(root, "controller.log"),
    args: ["--no-leader-elect", "--resync", "1m", "--ui-addr", "127.0.0.1:0"],
  });
  const line = await controller.logLine((l) => l.msg === "serving the web UI");
  return {
    controller,
    base: `http://127.0.0.1:${line.port as number}`,
    viewer: identities.find((i) => i.role === "viewer") as UiIdentity,
    operator: identities.find((i) => i.role === "operator") as UiIdentity,
    root,
    async stop(keep) {
      await controller.ensureKilled();
      if (keep) console.log(`[${name}] controller log and repository kept in ${root}`);
      else await rm(root, { recursive: true, force: true });
    },
  };
}
