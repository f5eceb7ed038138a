// A unified diff as text with its lines coloured: additions, removals, hunk headers and file
// headers. Plain text nodes only (never HTML from the server), so a manifest cannot inject markup.

type LineKind = "add" | "del" | "hunk" | "file" | "ctx";

function kindOf(line: string): LineKind {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) return "file";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "ctx";
}

export function UnifiedDiff({ diff }: { diff: string }) {
  const lines = diff.replace(/\n$/, "").split("\n");
  if (diff.trim() === "") return <p class="muted">No change in this cluster's files.</p>;
  return (
    <pre class="diff" data-testid="diff">
      {lines.map((line, i) => (
        <span key={i} class={`diff-${kindOf(line)}`}>
          {line}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}
