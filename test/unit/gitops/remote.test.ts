import { describe, expect, it } from "vitest";
import { GitError } from "../../../src/api/errors.js";
import { displayUrl, redact, validateRemoteUrl } from "../../../src/gitops/remote.js";

describe("remote URL and secret handling", () => {
  it.each([
    ["https://git.example.com/org/env.git", "https://git.example.com/org/env.git"],
    ["https://user:s3cret@git.example.com/org/env.git?x=1", "https://git.example.com/org/env.git"],
    ["not a url", "<invalid URL>"],
  ])("prints %s as %s", (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
  });

  it.each([
    ["a URL with credentials", "https://bot:tok-123@git.example.com/env.git", /must not contain credentials/],
    ["an ssh URL", "ssh://git@git.example.com/env.git", /must use https/],
    ["garbage", "::", /not a valid URL/],
  ])("refuses %s without echoing secrets", (_label, url, message) => {
    let caught: unknown;
    try {
      validateRemoteUrl(url);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GitError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain("tok-123");
  });

  it("redacts every occurrence of every secret", () => {
    expect(redact("a tok b tok Basic dG9r", ["tok", "dG9r", ""])).toBe("a *** b *** Basic ***");
  });
});
