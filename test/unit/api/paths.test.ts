import { describe, expect, it } from "vitest";
import { joinPath, pointerToPath } from "../../../src/api/paths.js";

describe("paths", () => {
  it.each([
    ["", "spec", "spec"],
    ["spec", "appRevisions", "spec.appRevisions"],
    ["spec.appRevisions", 0, "spec.appRevisions[0]"],
    ["metadata.labels", "flotilla.dev/app", 'metadata.labels["flotilla.dev/app"]'],
    ["settings", "LOG-LEVEL", "settings.LOG-LEVEL"],
    ["", "a b", '["a b"]'],
  ] as const)("joins %j and %j into %j", (base, segment, expected) => {
    expect(joinPath(base, segment)).toBe(expected);
  });

  it.each([
    ["", "", ""],
    ["", "spec.x", "spec.x"],
    ["/spec/appRevisions/0/template/spec/components/0/settings/image", "", "spec.appRevisions[0].template.spec.components[0].settings.image"],
    ["/image", "spec.appRevisions[1].template.spec.components[0].settings", "spec.appRevisions[1].template.spec.components[0].settings.image"],
    ["/metadata/labels/flotilla.dev~1app", "", 'metadata.labels["flotilla.dev/app"]'],
    ["/a~0b", "", 'a["a~b"]'.slice(1)],
  ])("converts pointer %j under %j to %j", (pointer, base, expected) => {
    expect(pointerToPath(pointer, base)).toBe(expected);
  });
});
