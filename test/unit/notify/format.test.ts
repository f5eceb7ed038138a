import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NotificationEvent } from "../../../src/notify/detect.js";
import { jsonBody, NOTIFICATION_API_VERSION, renderBody, signBody, slackBody, teamsBody } from "../../../src/notify/format.js";

const paused: NotificationEvent = {
  event: "BatchPaused",
  key: "BatchPaused/3/v2/staging/1",
  since: "2026-12-03T10:01:00.000Z",
  time: "2026-12-03T10:01:00.000Z",
  deployment: { namespace: "team-a", name: "frontend", generation: 3, uid: "u-1" },
  revision: "v2",
  stableRevision: "v1",
  wave: "staging",
  batch: 1,
  batches: 3,
  clusters: ["staging"],
  commit: "c0ffee0000000000000000000000000000000000",
  message: "v2 batch 1/3 in wave staging is paused on staging: waiting for promote <now> & then",
  phase: "Paused",
};

describe("notification bodies", () => {
  it("writes the json format as the documented v1 schema", () => {
    expect(jsonBody(paused)).toEqual({
      apiVersion: NOTIFICATION_API_VERSION,
      id: "BatchPaused/3/v2/staging/1@2026-12-03T10:01:00.000Z",
      event: "BatchPaused",
      time: "2026-12-03T10:01:00.000Z",
      deployment: { namespace: "team-a", name: "frontend", generation: 3, uid: "u-1" },
      revision: "v2",
      stableRevision: "v1",
      wave: "staging",
      batch: 1,
      batches: 3,
      clusters: ["staging"],
      commit: "c0ffee0000000000000000000000000000000000",
      message: paused.message,
      phase: "Paused",
    });
    expect(JSON.parse(renderBody(paused))).toEqual(jsonBody(paused));
    expect(JSON.parse(renderBody(paused, "json"))).toEqual(jsonBody(paused));
  });

  it("leaves out what an event does not have (a sync event has no wave or batch)", () => {
    const drift: NotificationEvent = {
      event: "DriftCorrected",
      key: "DriftCorrected/3/prod-eu/abc",
      time: "t",
      deployment: { namespace: "a", name: "b", generation: 1 },
      clusters: ["prod-eu"],
      message: "m",
    };
    expect(jsonBody(drift)).toEqual({
      apiVersion: NOTIFICATION_API_VERSION,
      id: "DriftCorrected/3/prod-eu/abc",
      event: "DriftCorrected",
      time: "t",
      deployment: { namespace: "a", name: "b", generation: 1 },
      clusters: ["prod-eu"],
      message: "m",
    });
  });

  it("writes a Slack incoming-webhook message: text, then header, message, fields and context blocks, escaped", () => {
    const body = slackBody(paused) as { text: string; blocks: Array<Record<string, unknown>> };
    expect(body.text).toBe(
      "Waiting for promote: team-a/frontend v2: v2 batch 1/3 in wave staging is paused on staging: waiting for promote &lt;now&gt; &amp; then",
    );
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(body.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "Waiting for promote: team-a/frontend v2", emoji: false } });
    const fields = (body.blocks[2] as { fields: Array<{ text: string }> }).fields.map((f) => f.text);
    expect(fields).toContain("*Wave*\nstaging, batch 1/3");
    expect(fields).toContain("*Clusters*\nstaging");
    expect(fields).toContain("*Commit*\nc0ffee000000");
  });

  it("writes a Teams message with one Adaptive Card", () => {
    const body = teamsBody({ ...paused, event: "RolloutFailed" }) as {
      type: string;
      attachments: Array<{ contentType: string; content: { type: string; version: string; body: Array<Record<string, unknown>> } }>;
    };
    expect(body.type).toBe("message");
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0]!;
    expect(card.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(card.content).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    expect(card.content.body[0]).toMatchObject({ type: "TextBlock", text: "Rollout failed: team-a/frontend v2", color: "Attention" });
    expect(card.content.body[2]).toMatchObject({ type: "FactSet" });
    expect((card.content.body[2] as { facts: Array<{ title: string; value: string }> }).facts).toContainEqual({ title: "Clusters", value: "staging" });
  });

  it("signs the exact body with HMAC-SHA256, as a receiver verifies it with node:crypto", () => {
    const body = renderBody(paused, "slack");
    const header = signBody(body, "s3cret");
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    const expected = Buffer.from(`sha256=${createHmac("sha256", "s3cret").update(Buffer.from(body)).digest("hex")}`);
    expect(timingSafeEqual(Buffer.from(header), expected)).toBe(true);
    expect(signBody(body, "other")).not.toBe(header);
    expect(signBody(`${body} `, "s3cret")).not.toBe(header);
  });
});
