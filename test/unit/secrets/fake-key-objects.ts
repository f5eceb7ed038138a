// An in-memory stand-in for the Secrets and ConfigMaps the sealing keys live in: create fails with
// AlreadyExists (returns false) as the API server does, and stamps a creationTimestamp.

import type { Manifest } from "../../../src/api/types.js";
import type { KeyObjects } from "../../../src/secrets/keys.js";

export class FakeKeyObjects implements KeyObjects {
  readonly objects = new Map<string, Manifest>();
  creates = 0;
  /** Every get waits for this first (a test can hold reads to force a race). */
  gate: Promise<void> = Promise.resolve();
  constructor(private readonly time = "2026-12-03T10:00:00Z") {}

  private key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  async get(kind: "Secret" | "ConfigMap", namespace: string, name: string): Promise<Manifest | undefined> {
    await this.gate;
    const found = this.objects.get(this.key(kind, namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  async create(object: Manifest): Promise<boolean> {
    this.creates++;
    const k = this.key(object.kind, object.metadata.namespace ?? "default", object.metadata.name);
    if (this.objects.has(k)) return false;
    this.objects.set(k, { ...structuredClone(object), metadata: { ...object.metadata, creationTimestamp: this.time } });
    return true;
  }

  async delete(kind: "Secret" | "ConfigMap", namespace: string, name: string): Promise<boolean> {
    return this.objects.delete(this.key(kind, namespace, name));
  }

  /** Put an object as if someone else had created it. */
  put(object: Manifest): void {
    this.objects.set(this.key(object.kind, object.metadata.namespace ?? "default", object.metadata.name), structuredClone(object));
  }

  secret(namespace: string, name: string): Manifest | undefined {
    return this.objects.get(this.key("Secret", namespace, name));
  }
}

/** The identity stored in a Secret object (base64-decoded). */
export function identityIn(secret: Manifest | undefined): string | undefined {
  const v = (secret?.data as Record<string, string> | undefined)?.identity;
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}
