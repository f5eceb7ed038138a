// `kubectl explain` answers for Flotilla's kinds on a real API server: the CRDs' descriptions are
// published through the server's OpenAPI document, down to nested list items.

import { beforeAll, describe, expect, it } from "vitest";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { kubeConfig, kubectl, waitFor } from "./support/fleet.js";

describe("kubectl explain on Flotilla's kinds", () => {
  beforeAll(async () => {
    await installToHub({ kubeConfig: kubeConfig("hub"), definitionDirs: [builtinDefinitionsDir()] });
  }, 120_000);

  /** The API server publishes a CRD's schema a moment after it is established. */
  async function explain(path: string): Promise<string> {
    return waitFor(
      async () => {
        const r = await kubectl("hub", ["explain", path], { allowFailure: true });
        return r.code === 0 && /DESCRIPTION:\s*\n\s*\S/.test(r.stdout) ? r.stdout : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, message: `kubectl explain ${path} to describe the field` },
    );
  }

  it.each([
    ["ad.spec.appRevisions.rollout.batches", /batch/i],
    ["applicationdeployments.spec.placementStrategies", /cluster/i],
    ["ad.status.rollout.clusters", /cluster/i],
    ["clusters.spec.kubeconfigSecretRef", /kubeconfig/i],
    ["componentdefinitions.spec", /component/i],
    ["traitdefinitions.spec", /trait/i],
  ])("describes %s", async (path, about) => {
    const out = await explain(path);
    const description = out.slice(out.indexOf("DESCRIPTION:"), out.indexOf("FIELDS:") >= 0 ? out.indexOf("FIELDS:") : undefined);
    expect(description).toMatch(about);
    expect(description).not.toMatch(/<empty>/);
  });
});
