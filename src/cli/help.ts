/** The "Examples:" block every command's --help ends with, one command line each, as kubectl's. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}
