import { describe, expect, it } from "vitest";
import { generateKeyPair, isRecipient, isSealedValue, recipientOf, seal, UnsealError, unseal } from "../../../src/secrets/age.js";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("age sealing", () => {
  it("opens a value sealed to several recipients with any one of their identities", async () => {
    const eu = await generateKeyPair();
    const us = await generateKeyPair();
    expect(isRecipient(eu.recipient)).toBe(true);
    expect(await recipientOf(eu.identity)).toBe(eu.recipient);
    const sealed = await seal("s3cr3t-password", [eu.recipient, us.recipient]);
    expect(isSealedValue(sealed)).toBe(true);
    expect(sealed).not.toContain("s3cr3t");
    expect(text(await unseal(sealed, eu.identity))).toBe("s3cr3t-password");
    expect(text(await unseal(sealed, us.identity))).toBe("s3cr3t-password");
  });

  it("says the key is not a recipient, without the value, for an identity it was not sealed to", async () => {
    const eu = await generateKeyPair();
    const other = await generateKeyPair();
    const sealed = await seal("s3cr3t-password", [eu.recipient]);
    const err = await unseal(sealed, other.identity).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsealError);
    expect((err as UnsealError).reason).toBe("not-a-recipient");
    expect(String((err as Error).message)).not.toContain(other.identity);
  });

  it("refuses a tampered ciphertext and text that is not an age file", async () => {
    const eu = await generateKeyPair();
    const sealed = await seal("s3cr3t-password", [eu.recipient]);
    const lines = sealed.trim().split("\n");
    // Flip one character of the payload's last base64 line before the footer.
    const i = lines.length - 2;
    const line = lines[i] as string;
    lines[i] = `${line.slice(0, 4)}${line[4] === "A" ? "B" : "A"}${line.slice(5)}`;
    await expect(unseal(`${lines.join("\n")}\n`, eu.identity)).rejects.toMatchObject({ reason: "malformed" });
    await expect(unseal("plain text", eu.identity)).rejects.toMatchObject({ reason: "malformed" });
    expect(isSealedValue("plain text")).toBe(false);
  });

  it("refuses to seal to nobody", async () => {
    await expect(seal("x", [])).rejects.toThrow(/at least one recipient/);
  });
});
