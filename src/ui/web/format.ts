// Small text helpers of the views: times relative to now, short commit ids, plural counts.

/** "12s ago", "5m ago", "3h ago", "2d ago"; the absolute time belongs in the element's title. */
export function ago(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** An ISO time as the reader's local date and time, for titles. */
export function localTime(iso: string | undefined): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

export const shortCommit = (oid: string) => oid.slice(0, 8);

export const firstLine = (text: string) => text.split("\n", 1)[0] ?? "";

export const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** A parameter default or any JSON value, on one line. */
export function jsonText(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(value);
}
