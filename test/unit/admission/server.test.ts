import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, issueServing, type KeyPairPem, servingIdentity } from "../../../src/admission/certificates.js";
import type { AdmissionRequest } from "../../../src/admission/review.js";
import { type AdmissionServer, startAdmissionServer } from "../../../src/admission/server.js";

let ca: KeyPairPem;
let server: AdmissionServer;
const seen: AdmissionRequest[] = [];

beforeAll(async () => {
  const now = new Date();
  ca = await createCa(now);
  server = await startAdmissionServer({
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 64 * 1024,
    admit: async (r) => {
      seen.push(r);
      return r.name === "bad" ? { allowed: false, problems: [{ path: "spec.x", message: "is wrong" }] } : { allowed: true };
    },
  });
  server.setCertificate(await issueServing(ca, servingIdentity("flotilla-webhook", "flotilla-system"), now));
});

afterAll(async () => {
  await server?.close();
});

interface Reply {
  status: number;
  body: string;
  cert: X509Certificate;
}

function post(path: string, body: string | Buffer, method = "POST"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: server.port, path, method, ca: ca.cert, agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        const peer = (res.socket as TLSSocket).getPeerX509Certificate() as X509Certificate;
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), cert: peer }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const review = (name: string) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: `uid-${name}`, kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" }, operation: "CREATE", name, object: {} },
  });

describe("the admission server", () => {
  it("answers an AdmissionReview over TLS verified by the CA, with the request's uid", async () => {
    const reply = await post("/validate", review("good"));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "uid-good", allowed: true } });
    expect(seen.at(-1)?.name).toBe("good");
  });

  it("refuses with 422 Invalid and the field-path message", async () => {
    const reply = await post("/validate", review("bad"));
    expect(JSON.parse(reply.body).response).toEqual({
      uid: "uid-bad",
      allowed: false,
      status: { status: "Failure", code: 422, reason: "Invalid", message: "spec.x: is wrong" },
    });
  });

  it.each([
    ["another path", "/mutate", review("x"), "POST", 404],
    ["another method", "/validate", "", "GET", 405],
    ["a body that is not JSON", "/validate", "{", "POST", 400],
    ["JSON that is not a review", "/validate", JSON.stringify({ kind: "Pod" }), "POST", 400],
    ["a body over the limit", "/validate", Buffer.alloc(65 * 1024, 32), "POST", 413],
  ])("answers %s with an error status and asks the validator nothing", async (_what, path, body, method, status) => {
    const before = seen.length;
    const reply = await post(path, body, method);
    expect(reply.status).toBe(status);
    expect(seen.length).toBe(before);
  });

  it("serves a rotated certificate on new connections without a restart", async () => {
    const before = (await post("/validate", review("good"))).cert.fingerprint256;
    const next = await issueServing(ca, servingIdentity("flotilla-webhook", "flotilla-system"), new Date());
    server.setCertificate(next);
    const after = (await post("/validate", review("good"))).cert;
    expect(after.fingerprint256).toBe(new X509Certificate(next.cert).fingerprint256);
    expect(after.fingerprint256).not.toBe(before);
  });
});
