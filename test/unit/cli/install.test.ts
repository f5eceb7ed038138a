// What `flotilla install` would apply, without a hub: the bundle it picks for each option, the
// controller image it sets, and the placeholder image it refuses. (Applying it to a live hub is
// an integration test's job.)

import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { controllerImage } from "../../../src/cli/bundle.js";
import { registerControllerCommands } from "../../../src/cli/controller.js";
import { BUNDLES, bundleDir, installObjects } from "../../../src/cli/install.js";

const kinds = (dir: string, image?: string) =>
  installObjects(dir, image)
    .map((o) => o.kind)
    .sort();

describe("flotilla install", () => {
  it.each(Object.keys(BUNDLES) as Array<keyof typeof BUNDLES>)("finds the %s bundle in the package", (bundle) => {
    expect(existsSync(join(bundleDir(bundle), "kustomization.yaml"))).toBe(true);
  });

  it("refuses the placeholder image, saying how to build one or go without the controller", () => {
    expect(() => installObjects(bundleDir("controller"), undefined)).toThrow(
      /the controller image is registry\.example\.com\/flotilla:\d+\.\d+\.\d+, a placeholder.*--image REF.*--without-controller/,
    );
    expect(() => installObjects(bundleDir("gitRemote"), undefined)).toThrow(/a placeholder/);
  });

  it("runs the image given with --image", () => {
    const objects = installObjects(bundleDir("controller"), "reg.example.org/flotilla@sha256:0123");
    expect(controllerImage(objects)).toBe("reg.example.org/flotilla@sha256:0123");
  });

  it("applies only the CRDs without the controller, and needs no image then", () => {
    expect(kinds(bundleDir("crds"))).toEqual(Array(8).fill("CustomResourceDefinition"));
  });

  it("applies the controller with its claim by default, and without one with --git-remote", () => {
    expect(kinds(bundleDir("controller"), "x")).toContain("PersistentVolumeClaim");
    expect(kinds(bundleDir("gitRemote"), "x")).not.toContain("PersistentVolumeClaim");
  });

  it.each([["--image", "x"], ["--git-remote"]])("refuses --without-controller with %s", (...option) => {
    const program = new Command().exitOverride();
    registerControllerCommands(program);
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {} });
    let error: unknown;
    try {
      program.parse(["install", "--without-controller", ...option], { from: "user" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).code).toBe("commander.conflictingOption");
  });
});
