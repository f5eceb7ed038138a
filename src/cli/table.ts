// Columns as kubectl prints them: a header row, every column as wide as its widest cell, the last
// column unpadded, no trailing blanks.

/** `gap` spaces between columns (kubectl's own tables use 3). */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], gap = 3): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join(" ".repeat(gap))
      .trimEnd();
  return `${[head, ...rows].map(line).join("\n")}\n`;
}

/**
 * A duration as kubectl's AGE column prints it: precise while small (`90s`, `5m30s`, `2h15m`),
 * coarser as it grows (`95m`, `30h`, `3d4h`, `40d`, `2y10d`). Negative durations (clock skew) are `0s`.
 */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(s / 3600);
  const d = Math.floor(h / 24);
  const y = Math.floor(d / 365);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  if (y < 8) return d % 365 ? `${y}y${d % 365}d` : `${y}y`;
  return `${y}y`;
}
