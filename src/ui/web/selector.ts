// Kubernetes label selectors as the deployments list's filter box takes them: `k=v`, `k==v`,
// `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas. Pure; a bad selector is an
// error that says which term is wrong, shown under the box instead of silently matching nothing.

export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

export type ParsedSelector = { ok: true; requirements: Requirement[] } | { ok: false; error: string };

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas outside parentheses, so `k in (a,b),x=y` is two terms. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

function parseTerm(term: string): Requirement | string {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = "", op, list = ""] = set;
    const values = list
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (!KEY.test(key)) return `"${key}" is not a label key`;
    if (values.length === 0) return `"${term}": list at least one value, e.g. ${key} ${op} (a,b)`;
    return { key, op: op as "in" | "notin", values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) {
    const [, key = "", op, value = ""] = cmp;
    if (!KEY.test(key)) return `"${key}" is not a label key`;
    if (!VALUE.test(value)) return `"${value}" is not a label value`;
    return { key, op: op === "!=" ? "!=" : "=", value };
  }
  const exists = /^(!?)\s*([^=!\s()]+)$/.exec(term);
  if (exists) {
    const [, not, key = ""] = exists;
    if (!KEY.test(key)) return `"${key}" is not a label key`;
    return { key, op: not ? "!exists" : "exists" };
  }
  return `"${term}" is not a selector term (write key=value, key!=value, key in (a,b), key or !key)`;
}

export function parseSelector(selector: string): ParsedSelector {
  const requirements: Requirement[] = [];
  for (const term of terms(selector)) {
    const r = parseTerm(term);
    if (typeof r === "string") return { ok: false, error: r };
    requirements.push(r);
  }
  return { ok: true, requirements };
}

export function matches(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.op) {
      case "=":
        return value === r.value;
      case "!=":
        return value !== r.value;
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
      case "exists":
        return has;
      case "!exists":
        return !has;
      default:
        return false;
    }
  });
}
