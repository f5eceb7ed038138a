// Structured JSON logs (pino): to stdout for `flotilla controller`, to a file for `flotilla up`,
// whose terminal shows the progress view instead.

import { type Logger, destination, pino } from "pino";

export function createLogger(options: { file?: string; level?: string } = {}): Logger {
  const level = options.level ?? process.env.FLOTILLA_LOG_LEVEL ?? "info";
  const base = { level, base: { component: "flotilla" } };
  return options.file ? pino(base, destination({ dest: options.file, mkdir: true, sync: false })) : pino(base);
}
