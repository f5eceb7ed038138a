// JSON paths in the dotted form users read in errors and status:
// `spec.appRevisions[0].template.spec.components[0].settings.image`.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Append one segment (a key or an index) to a dotted path. */
export function joinPath(base: string, segment: string | number): string {
  if (typeof segment === "number") return `${base}[${segment}]`;
  if (IDENT.test(segment)) return base ? `${base}.${segment}` : segment;
  return `${base}[${JSON.stringify(segment)}]`;
}

/** Convert a JSON Pointer (`/spec/appRevisions/0`) to a dotted path under `base`. */
export function pointerToPath(pointer: string, base = ""): string {
  if (!pointer) return base;
  let path = base;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path = joinPath(path, /^[0-9]+$/.test(seg) ? Number(seg) : seg);
  }
  return path;
}
