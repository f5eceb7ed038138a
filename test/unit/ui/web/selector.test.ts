import { describe, expect, it } from "vitest";
import { matches, parseSelector } from "../../../../src/ui/web/selector.js";

const labels = { app: "shop", tier: "web", "example.com/team": "a" };

describe("the deployments list's label selector", () => {
  it.each([
    ["", true],
    ["app=shop", true],
    ["app==shop", true],
    ["app=other", false],
    ["app!=other", true],
    ["tier in (web,batch)", true],
    ["tier notin (web)", false],
    ["app, !missing", true],
    ["missing", false],
    ["example.com/team=a,tier in (web, batch)", true],
    ["app=shop,tier=batch", false],
  ])("%j matches {app: shop, tier: web}: %s", (selector, expected) => {
    const parsed = parseSelector(selector);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(matches(parsed.requirements, labels)).toBe(expected);
  });

  it.each([
    ["app in ()", "list at least one value"],
    ["a b c", "is not a selector term"],
    ["app=sh op", "is not a selector term"],
    ["-app=x", '"-app" is not a label key'],
    ["app=-x", '"-x" is not a label value'],
  ])("refuses %j and says why", (selector, message) => {
    const parsed = parseSelector(selector);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });

  it("does not match inherited object keys as labels", () => {
    const parsed = parseSelector("constructor");
    expect(parsed.ok && matches(parsed.requirements, {})).toBe(false);
  });
});
