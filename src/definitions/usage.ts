// The usage comment a definition file opens with (see definitions/*.yaml): the `#` lines before a
// document, split into the prose and the part after an `Example:` line. Reads text only; YAML
// itself is parsed by the loader, never here.

export interface UsageComment {
  /** The prose, `# ` removed, blank lines kept between paragraphs, none at either end. */
  notes: string[];
  /** The lines after `Example:`, with the indentation they share removed; empty when there is none. */
  example: string[];
}

/** Lines of a comment block without their `#` and the one space after it. */
function uncomment(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/^\s*#( ?)/, ""));
}

function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && !lines[start]?.trim()) start++;
  while (end > start && !lines[end - 1]?.trim()) end--;
  return lines.slice(start, end);
}

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length);
  const shared = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(shared, l.length - l.trimStart().length)).trimEnd());
}

/** A comment block as its notes and example. */
export function parseUsageComment(lines: readonly string[]): UsageComment {
  const text = uncomment(lines);
  const at = text.findIndex((l) => /^\s*Example:\s*$/.test(l));
  if (at < 0) return { notes: trimBlank(text.map((l) => l.trimEnd())), example: [] };
  return { notes: trimBlank(text.slice(0, at).map((l) => l.trimEnd())), example: trimBlank(dedent(text.slice(at + 1))) };
}

/**
 * The leading comment block of each document of a YAML stream, in document order: the `#` lines
 * (and blank lines between them) before the document's first line of content. A separator with
 * nothing but comments before it hands its comment to the next document; a document without a
 * comment has an empty block.
 */
export function leadingComments(text: string): string[][] {
  const blocks: string[][] = [];
  let comment: string[] = [];
  let inContent = false;
  for (const line of text.split(/\r?\n/)) {
    const separator = /^---(?:\s+(.*))?$/.exec(line);
    if (separator) {
      if (inContent) comment = [];
      inContent = false;
      // `--- {a: 1}`: the document starts on the separator's line.
      const rest = separator[1]?.trim() ?? "";
      if (rest && !rest.startsWith("#")) {
        blocks.push(trimBlank(comment));
        comment = [];
        inContent = true;
      }
      continue;
    }
    if (inContent) continue;
    if (/^\s*#/.test(line)) comment.push(line);
    else if (line.trim() === "") {
      if (comment.length) comment.push(line);
    } else {
      blocks.push(trimBlank(comment));
      comment = [];
      inContent = true;
    }
  }
  return blocks;
}
