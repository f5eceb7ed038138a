// A RegExp look-alike backed by RE2JS, so code that drives a regex through `exec` and `lastIndex`
// (JSONata's `RegexEngine` option, for one) matches in time linear in the input, whatever the
// pattern. It never falls back to the backtracking engine: a pattern RE2 cannot run is an error.
//
// `defineRe2RegExp` refers to nothing outside its own body: the template worker runs its source
// text in another process. Everyone else imports `Re2RegExp` and `UnsupportedRegexError`.

import { RE2JS } from "re2js";

/** The part of RE2JS the adapter uses (so a caller may pass the module loaded some other way). */
export interface Re2Engine {
  compile(pattern: string, flags?: number): Re2Pattern;
  readonly CASE_INSENSITIVE: number;
  readonly MULTILINE: number;
  readonly DOTALL: number;
}

interface Re2Pattern {
  matcher(input: string): Re2Matcher;
}

interface Re2Matcher {
  find(start: number): boolean;
  start(): number;
  end(): number;
  group(index: number): string | null;
  groupCount(): number;
}

/** The RegExp members the adapter provides: enough for `exec`/`test` loops driven by `lastIndex`. */
export interface Re2RegExpLike {
  readonly source: string;
  readonly flags: string;
  readonly global: boolean;
  lastIndex: number;
  exec(input: string): RegExpExecArray | null;
  test(input: string): boolean;
}

export interface Re2RegExpConstructor {
  new (pattern: RegExp | string, flags?: string): Re2RegExpLike;
}

export interface UnsupportedRegexErrorConstructor {
  new (source: string, reason: string): Error & { readonly code: "UnsupportedRegex"; readonly source: string; readonly reason: string };
}

/**
 * Build the adapter classes over an RE2JS module.
 *
 * JavaScript syntax RE2 spells differently is translated (`\uXXXX`, `\cX`, `\0`), and `.` and `\s`
 * are widened to JavaScript's line terminators and white space so results match the native engine.
 * Left as RE2 has them: case folding under `i` (Unicode simple folding) and `^`/`$` under `m`
 * (only `\n` ends a line). Backreferences and lookaround have no linear-time form: refused.
 */
export function defineRe2RegExp(re2: Re2Engine): { Re2RegExp: Re2RegExpConstructor; UnsupportedRegexError: UnsupportedRegexErrorConstructor } {
  // JavaScript's \s, as the inside of an RE2 character class.
  const SPACE = "\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}";
  const NOT_LINE_END = "[^\\n\\r\\x{2028}\\x{2029}]";
  const MAX_CACHED = 1000;
  const compiled = new Map<string, Re2Pattern>();

  class UnsupportedRegexError extends Error {
    override name = "UnsupportedRegexError";
    readonly code = "UnsupportedRegex" as const;
    readonly source: string;
    readonly reason: string;
    constructor(source: string, reason: string) {
      super(
        `regular expression /${source}/ cannot run in linear time (${reason}); backreferences and lookaround ((?=, (?!, (?<=, (?<!) are not supported, rewrite it without them`,
      );
      this.source = source;
      this.reason = reason;
    }
  }

  const hex = (code: number) => `\\x{${code.toString(16)}}`;

  /** JavaScript pattern syntax → RE2 syntax, escape by escape; everything else passes through. */
  function translate(source: string, dotAll: boolean): string {
    let out = "";
    let inClass = false;
    for (let i = 0; i < source.length; i++) {
      const c = source[i] as string;
      if (c === "\\" && i + 1 < source.length) {
        const next = source[i + 1] as string;
        const unit = /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6)) ? Number.parseInt(source.slice(i + 2, i + 6), 16) : -1;
        if (next === "u" && unit >= 0) {
          const low = source.slice(i + 6, i + 8) === "\\u" && /^[dD][c-fC-F][0-9a-fA-F]{2}$/.test(source.slice(i + 8, i + 12));
          if (unit >= 0xd800 && unit <= 0xdbff && low) {
            const lowUnit = Number.parseInt(source.slice(i + 8, i + 12), 16);
            out += hex((unit - 0xd800) * 0x400 + (lowUnit - 0xdc00) + 0x10000);
            i += 11;
          } else {
            out += hex(unit);
            i += 5;
          }
        } else if (next === "c" && /^[a-zA-Z]$/.test(source[i + 2] ?? "")) {
          out += hex((source.charCodeAt(i + 2) as number) % 32);
          i += 2;
        } else if (next === "0" && !/^[0-9]$/.test(source[i + 2] ?? "")) {
          out += hex(0);
          i += 1;
        } else if (next === "s") {
          out += inClass ? SPACE : `[${SPACE}]`;
          i += 1;
        } else if (next === "S" && !inClass) {
          out += `[^${SPACE}]`;
          i += 1;
        } else {
          out += c + next;
          i += 1;
        }
      } else if (c === "[" && !inClass) {
        inClass = true;
        out += c;
      } else if (c === "]" && inClass) {
        inClass = false;
        out += c;
      } else if (c === "." && !inClass && !dotAll) {
        out += NOT_LINE_END;
      } else {
        out += c;
      }
    }
    return out;
  }

  function compile(source: string, flags: string): Re2Pattern {
    const key = `${flags}/${source}`;
    const hit = compiled.get(key);
    if (hit) return hit;
    let bits = 0;
    if (flags.includes("i")) bits |= re2.CASE_INSENSITIVE;
    if (flags.includes("m")) bits |= re2.MULTILINE;
    if (flags.includes("s")) bits |= re2.DOTALL;
    if (flags.includes("y")) throw new UnsupportedRegexError(source, "the sticky flag y is not supported");
    let pattern: Re2Pattern;
    try {
      pattern = re2.compile(translate(source, flags.includes("s")), bits);
    } catch (e) {
      throw new UnsupportedRegexError(source, String((e as Error).message ?? e));
    }
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, pattern);
    return pattern;
  }

  class Re2RegExp implements Re2RegExpLike {
    readonly source: string;
    readonly flags: string;
    readonly global: boolean;
    lastIndex = 0;
    private readonly pattern: Re2Pattern;

    constructor(pattern: RegExp | string, flags?: string) {
      this.source = typeof pattern === "string" ? pattern : pattern.source;
      this.flags = flags ?? (typeof pattern === "string" ? "" : pattern.flags);
      this.global = this.flags.includes("g");
      this.pattern = compile(this.source, this.flags);
    }

    exec(input: string): RegExpExecArray | null {
      const text = String(input);
      const from = this.global ? this.lastIndex : 0;
      const matcher = this.pattern.matcher(text);
      if (from > text.length || !matcher.find(from)) {
        if (this.global) this.lastIndex = 0;
        return null;
      }
      const groups: Array<string | undefined> = [matcher.group(0) ?? ""];
      for (let g = 1; g <= matcher.groupCount(); g++) groups.push(matcher.group(g) ?? undefined);
      if (this.global) this.lastIndex = matcher.end();
      return Object.assign(groups, { index: matcher.start(), input: text, groups: undefined }) as unknown as RegExpExecArray;
    }

    test(input: string): boolean {
      return this.exec(input) !== null;
    }

    toString(): string {
      return `/${this.source}/${this.flags}`;
    }
  }

  return { Re2RegExp, UnsupportedRegexError };
}

const adapter = defineRe2RegExp(RE2JS);

/** A RegExp-compatible, linear-time regular expression (see `defineRe2RegExp`). */
export const Re2RegExp: Re2RegExpConstructor = adapter.Re2RegExp;

/** Thrown by `new Re2RegExp(...)` for a pattern RE2 cannot compile; `reason` is RE2's own word. */
export const UnsupportedRegexError: UnsupportedRegexErrorConstructor = adapter.UnsupportedRegexError;
