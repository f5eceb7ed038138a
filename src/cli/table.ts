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
