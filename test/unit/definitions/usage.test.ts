// The usage comment a definition file opens with: which comment belongs to which document, and
// its prose and example apart.

import { describe, expect, it } from "vitest";
import { leadingComments, parseUsageComment } from "../../../src/definitions/usage.js";

describe("leadingComments", () => {
  it("gives each document of a stream the comment lines before its first content line", () => {
    const text = [
      "# first — one.",
      "#",
      "# Example:",
      "#   x: 1",
      "apiVersion: v1",
      "# inside the document, not a usage comment",
      "kind: A",
      "---",
      "kind: B",
      "---",
      "# third",
      "",
      "# still third",
      "kind: C",
      "",
    ].join("\n");
    expect(leadingComments(text)).toEqual([["# first — one.", "#", "# Example:", "#   x: 1"], [], ["# third", "", "# still third"]]);
  });

  it("hands a comment before a leading separator to the first document and counts a document starting on the separator's line", () => {
    expect(leadingComments("# usage\n---\nkind: A\n--- {kind: B}\n---\n")).toEqual([["# usage"], []]);
  });
});

describe("parseUsageComment", () => {
  it("splits the prose from the example, removing # and the example's shared indentation", () => {
    const usage = parseUsageComment(["# env — set variables.", "# Merges by name.", "#", "# Example:", "#   traits:", "#     - name: env", "#"]);
    expect(usage).toEqual({ notes: ["env — set variables.", "Merges by name."], example: ["traits:", "  - name: env"] });
  });

  it("has no example when no line says Example:", () => {
    expect(parseUsageComment(["# just prose", "#   indented"])).toEqual({ notes: ["just prose", "  indented"], example: [] });
  });
});
