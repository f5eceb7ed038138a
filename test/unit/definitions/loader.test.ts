import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/api/errors.js";
import { toYaml } from "../../../src/api/serialize.js";
import { FileDefinitionSource, listManifestFiles, readDocuments } from "../../../src/definitions/loader.js";
import { aCluster, aComponentDefinition, aTraitDefinition } from "../builders.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flotilla-loader-"));
  await mkdir(join(dir, "nested", "deeper"), { recursive: true });
  await writeFile(
    join(dir, "b-multi.yaml"),
    `${toYaml(aComponentDefinition("worker").build())}---\n${toYaml(aTraitDefinition("labels").build())}---\n${toYaml(aCluster("prod-eu").build())}`,
  );
  await writeFile(
    join(dir, "a-list.yml"),
    toYaml({ apiVersion: "v1", kind: "List", items: [aTraitDefinition("env").build(), aTraitDefinition("sidecar").build()] }),
  );
  await writeFile(join(dir, "nested", "deeper", "c.json"), JSON.stringify(aComponentDefinition("json-def").build()));
  await writeFile(join(dir, "README.md"), "# not a manifest\n");
  await writeFile(join(dir, "nested", "broken.yaml.txt"), "nope");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("listManifestFiles", () => {
  it("finds YAML and JSON files in folders recursively, sorted, and skips other files", async () => {
    const files = await listManifestFiles([dir]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(["a-list.yml", "b-multi.yaml", join("nested", "deeper", "c.json")]);
  });

  it("takes a file named explicitly whatever its extension", async () => {
    const file = join(dir, "README.md");
    expect(await listManifestFiles([file])).toEqual([file]);
  });

  it("names a path that does not exist", async () => {
    const missing = join(dir, "missing.yaml");
    await expect(listManifestFiles([missing])).rejects.toThrow(ValidationError);
    await expect(listManifestFiles([missing])).rejects.toThrow(/missing\.yaml: cannot be read \(ENOENT\)/);
  });
});

describe("readDocuments", () => {
  it("reads every document of a multi-document file with its index", async () => {
    const docs = await readDocuments([join(dir, "b-multi.yaml")]);
    expect(docs.map((d) => [d.index, (d.doc as { kind: string }).kind])).toEqual([
      [0, "ComponentDefinition"],
      [1, "TraitDefinition"],
      [2, "Cluster"],
    ]);
  });

  it("flattens kind: List documents", async () => {
    const docs = await readDocuments([join(dir, "a-list.yml")]);
    expect(docs.map((d) => (d.doc as { metadata: { name: string } }).metadata.name)).toEqual(["env", "sidecar"]);
  });

  it("names the file of a YAML syntax error", async () => {
    const bad = join(dir, "nested", "bad.yaml");
    await writeFile(bad, "a: [1, 2\n");
    try {
      await expect(readDocuments([bad])).rejects.toThrow(/bad\.yaml/);
    } finally {
      await rm(bad);
    }
  });
});

describe("FileDefinitionSource", () => {
  it("loads only component and trait definitions from a folder, in file order", async () => {
    const docs = await new FileDefinitionSource([dir]).loadDocuments();
    expect(docs.map((d) => `${(d as { kind: string }).kind}/${(d as { metadata: { name: string } }).metadata.name}`)).toEqual([
      "TraitDefinition/env",
      "TraitDefinition/sidecar",
      "ComponentDefinition/worker",
      "TraitDefinition/labels",
      "ComponentDefinition/json-def",
    ]);
  });
});
