// A definition's JSON Schema as the rows of a parameter table, for people choosing settings:
// every field with its dotted path (`[]` for array items, `<key>` for map entries), a short type,
// its default, whether it is required and its description. Reads the schema only: it never
// validates a value, and a schema it does not understand yields `any`, never an error.

type Schema = Record<string, unknown>;

export interface Parameter {
  /** `ports[].port`, `env`, `storage.<key>.size`; a schema that is a map itself has the row `<key>`. */
  path: string;
  /** `string`, `integer|string`, `enum(TCP,UDP)`, `[]string`, `map[string]string`, `[](integer|object)`, `any`. */
  type: string;
  /** The schema's `default`, when it has one. */
  default?: unknown;
  /** Required in its parent object (a required field of an optional object is needed only when the object is given). */
  required: boolean;
  /** The field's `description`, on one line; "" without one. */
  description: string;
  /** Limits beyond the type: `1..65535`, `length<=15`, `pattern ^[a-z]+$`, `keys ^/`, `entries>=1`. */
  constraints: string[];
}

export interface ParameterTable {
  parameters: Parameter[];
  /** Rules no single row shows: `at least one of port, ports`, `ports[]: exactly one of a, b`. */
  rules: string[];
}

/** The key placeholder in the path of a map's entries. */
export const MAP_KEY = "<key>";

/** How deep the table follows nested schemas (a recursive `$ref` stops sooner, at its second visit). */
const MAX_DEPTH = 12;

function isSchema(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Follows `#/...` JSON pointers of `root`; sibling keys of `$ref` (a description) win over the target's. */
function resolve(s: unknown, root: Schema, refs: readonly string[] = []): { schema: Schema; refs: readonly string[] } {
  if (!isSchema(s)) return { schema: {}, refs };
  const ref = s.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#") || refs.includes(ref) || refs.length > MAX_DEPTH) return { schema: s, refs };
  let target: unknown = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    target = isSchema(target) ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  if (!isSchema(target)) return { schema: s, refs };
  const { $ref: _, ...siblings } = s;
  const inner = resolve(target, root, [...refs, ref]);
  return { schema: { ...inner.schema, ...siblings }, refs: inner.refs };
}

function alternatives(s: Schema): Schema[] {
  const alts = Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : [];
  return alts.filter(isSchema);
}

/** An alternative that only constrains (`{required: [port]}`) adds no type of its own. */
function describesAType(s: Schema): boolean {
  return ["type", "enum", "const", "properties", "items", "additionalProperties", "$ref", "oneOf", "anyOf"].some((k) => k in s);
}

function valueText(v: unknown): string {
  return typeof v === "string" ? (v === "" ? '""' : v) : JSON.stringify(v);
}

function wrap(type: string): string {
  return type.includes("|") ? `(${type})` : type;
}

/** The schema of a map's values: `additionalProperties` as a schema, else the first `patternProperties`. */
function mapValues(s: Schema): Schema | undefined {
  if (isSchema(s.additionalProperties)) return s.additionalProperties;
  if (isSchema(s.patternProperties)) return Object.values(s.patternProperties).find(isSchema);
  return undefined;
}

function isMap(s: Schema): boolean {
  return !isSchema(s.properties) && mapValues(s) !== undefined;
}

function typeOf(raw: unknown, root: Schema, refs: readonly string[] = []): string {
  const { schema: s, refs: seen } = resolve(raw, root, refs);
  if ("const" in s) return `const(${valueText(s.const)})`;
  if (Array.isArray(s.enum)) return `enum(${s.enum.map(valueText).join(",")})`;
  const alts = alternatives(s).filter(describesAType);
  if (!("type" in s) && alts.length) return [...new Set(alts.map((a) => typeOf(a, root, seen)))].join("|");
  const named = Array.isArray(s.type) ? s.type.filter((t): t is string => typeof t === "string") : typeof s.type === "string" ? [s.type] : [];
  const inferred = named.length ? named : isSchema(s.properties) || mapValues(s) ? ["object"] : "items" in s ? ["array"] : [];
  if (!inferred.length) return "any";
  return inferred
    .map((t) => {
      if (t === "array") return isSchema(s.items) ? `[]${wrap(typeOf(s.items, root, seen))}` : "[]any";
      if (t === "object" && isMap(s)) return `map[string]${wrap(typeOf(mapValues(s), root, seen))}`;
      return t;
    })
    .join("|");
}

function range(min: unknown, max: unknown, what = ""): string | undefined {
  const lo = typeof min === "number" ? min : undefined;
  const hi = typeof max === "number" ? max : undefined;
  if (lo !== undefined && hi !== undefined) return `${what}${what ? " " : ""}${lo}..${hi}`;
  if (lo !== undefined) return `${what}>=${lo}`;
  if (hi !== undefined) return `${what}<=${hi}`;
  return undefined;
}

function constraintsOf(s: Schema): string[] {
  const out = [
    range(s.minimum, s.maximum),
    typeof s.exclusiveMinimum === "number" ? `>${s.exclusiveMinimum}` : undefined,
    typeof s.exclusiveMaximum === "number" ? `<${s.exclusiveMaximum}` : undefined,
    range(s.minLength, s.maxLength, "length"),
    range(s.minItems, s.maxItems, "items"),
    s.uniqueItems === true ? "unique" : undefined,
    range(s.minProperties, s.maxProperties, "entries"),
    typeof s.format === "string" ? `format ${s.format}` : undefined,
    typeof s.pattern === "string" ? `pattern ${s.pattern}` : undefined,
    isSchema(s.propertyNames) && typeof s.propertyNames.pattern === "string" ? `keys ${s.propertyNames.pattern}` : undefined,
  ];
  return out.filter((c): c is string => c !== undefined);
}

function oneLine(text: unknown): string {
  return typeof text === "string" ? text.replace(/\s+/g, " ").trim() : "";
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** `a, b` as `a, b`; an alternative requiring several keys as `a and b`. */
function requiredRule(s: Schema, path: string): string | undefined {
  const alts = Array.isArray(s.oneOf)
    ? { word: "exactly one of", list: s.oneOf }
    : Array.isArray(s.anyOf)
      ? { word: "at least one of", list: s.anyOf }
      : undefined;
  if (!alts?.list.length) return undefined;
  const groups: string[] = [];
  for (const alt of alts.list) {
    if (!isSchema(alt) || describesAType(alt) || !Array.isArray(alt.required)) return undefined;
    groups.push(alt.required.map(String).join(" and "));
  }
  return `${path ? `${path}: ` : ""}${alts.word} ${groups.join(", ")}`;
}

/** The object shapes `s` stands for: itself and the alternatives of its oneOf/anyOf/allOf that have fields. */
function shapes(s: Schema, root: Schema, refs: readonly string[]): Array<{ schema: Schema; refs: readonly string[] }> {
  const all = [s, ...alternatives(s), ...(Array.isArray(s.allOf) ? s.allOf.filter(isSchema) : [])];
  return all.map((a, i) => (i === 0 ? { schema: a, refs } : resolve(a, root, refs)));
}

function visit(raw: unknown, path: string, root: Schema, refs: readonly string[], depth: number, out: ParameterTable): void {
  if (depth > MAX_DEPTH) return;
  const resolved = resolve(raw, root, refs);
  const s = resolved.schema;
  const rule = requiredRule(s, path);
  if (rule) out.rules.push(rule);
  const seenKeys = new Set<string>();
  for (const shape of shapes(s, root, resolved.refs)) {
    const props = shape.schema.properties;
    if (!isSchema(props)) continue;
    const required = new Set(Array.isArray(shape.schema.required) ? shape.schema.required.map(String) : []);
    for (const [key, child] of Object.entries(props)) {
      if (seenKeys.has(key)) continue;
      seenKeys.add(key);
      row(child, join(path, key), required.has(key), root, shape.refs, depth, out);
    }
  }
  const values = isMap(s) ? mapValues(s) : undefined;
  if (values) {
    // A schema that is a map itself (the `labels` trait) has no row to hang its entries on.
    if (path === "") row({ ...values, description: values.description ?? s.description }, MAP_KEY, false, root, resolved.refs, depth, out);
    else visit(values, join(path, MAP_KEY), root, resolved.refs, depth + 1, out);
  }
  for (const shape of shapes(s, root, resolved.refs)) {
    if (isSchema(shape.schema.items)) visit(shape.schema.items, `${path}[]`, root, shape.refs, depth + 1, out);
  }
}

function row(raw: unknown, path: string, required: boolean, root: Schema, refs: readonly string[], depth: number, out: ParameterTable): void {
  // A $ref met again below itself is recursive: its row stands, its fields are not repeated.
  const ref = isSchema(raw) ? raw.$ref : undefined;
  const recursive = typeof ref === "string" && refs.includes(ref);
  const { schema: s, refs: seen } = resolve(raw, root, recursive ? refs.filter((r) => r !== ref) : refs);
  out.parameters.push({
    path,
    // Types follow $refs on their own: a type never descends into fields, so it ends without the path's refs.
    type: typeOf(s, root),
    ...("default" in s ? { default: s.default } : {}),
    required,
    description: oneLine(s.description),
    constraints: constraintsOf(s),
  });
  if (!recursive) visit(s, path, root, seen, depth + 1, out);
}

/**
 * The parameters of a definition's `spec.schema`, parents before their fields, fields in the
 * schema's order; `undefined` (no schema) has none.
 */
export function parameterTable(schema: unknown): ParameterTable {
  const out: ParameterTable = { parameters: [], rules: [] };
  if (!isSchema(schema)) return out;
  if (typeof schema.minProperties === "number" && isSchema(schema.properties)) {
    const n = schema.minProperties;
    out.rules.push(`at least ${n === 1 ? "one" : n} of ${Object.keys(schema.properties).join(", ")}`);
  }
  visit(schema, "", schema, [], 0, out);
  return out;
}

/** A default as the table prints it: strings bare (`""` when empty), anything else as JSON. */
export function defaultText(p: Parameter): string {
  return "default" in p ? valueText(p.default) : "";
}
