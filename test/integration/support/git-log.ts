// Reading the environment repository's history with stock git, one line per deployment a commit
// names: a commit of one deployment is its subject `<ns>/<name>: <summary>`; a batch (deployments
// reconciled together, subject `<n> deployments: …`) lists `- <ns>/<name>: <summary>` in its body.

/** Pass to `git log --format=…`: commits separated by a record separator, the oid, then the message. */
export const DEPLOYMENT_LOG_FORMAT = "%x1e%H%n%B";

/** `<ns>/<name>: <summary>` lines with their commit, from `git log --format=${DEPLOYMENT_LOG_FORMAT}`, in log order. */
export function deploymentLog(logOutput: string): Array<{ oid: string; line: string }> {
  const out: Array<{ oid: string; line: string }> = [];
  for (const record of logOutput.split("\x1e")) {
    const [oid = "", subject = "", ...body] = record.trim().split("\n");
    if (!subject) continue;
    if (/^\d+ deployments: /.test(subject)) {
      for (const line of body) if (line.startsWith("- ")) out.push({ oid, line: line.slice(2) });
    } else {
      out.push({ oid, line: subject });
    }
  }
  return out;
}

/** Just the lines of {@link deploymentLog}. */
export function deploymentLines(logOutput: string): string[] {
  return deploymentLog(logOutput).map((l) => l.line);
}
