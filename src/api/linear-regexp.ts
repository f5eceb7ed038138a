// JSON Schema `pattern` and `patternProperties` as RE2 (re2js): matching takes time linear in the
// input whatever the pattern, so a definition's schema cannot stall the controller on a tenant's
// string (`(a+)+$` against "aaaa…!" backtracks for hours in JavaScript's engine). JavaScript
// syntax is translated first; what RE2 cannot do in linear time (backreferences, lookaround) is a
// compile error, which makes the definition broken with that message.

import { RE2JS } from "re2js";

/** The part of RegExp that ajv's generated code uses. */
export interface PatternMatcher {
  readonly source: string;
  readonly flags: string;
  test(input: string): boolean;
  /** ajv keys its cache of compiled patterns by this text: it must differ per pattern. */
  toString(): string;
}

/** ajv's `code.regExp`: `(pattern, flags) => matcher`; throws on a pattern RE2 does not accept. */
export function linearRegExp(pattern: string, flags = ""): PatternMatcher {
  let options = 0;
  if (flags.includes("i")) options |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes("m")) options |= RE2JS.MULTILINE;
  if (flags.includes("s")) options |= RE2JS.DOTALL;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern), options);
  } catch (e) {
    throw new Error(
      `pattern ${JSON.stringify(pattern)} is not supported: ${(e as Error).message} (patterns run as RE2, in linear time: no backreferences or lookaround)`,
      { cause: e },
    );
  }
  return { source: pattern, flags, test: (input) => compiled.test(input), toString: () => `/${pattern}/${flags}` };
}
