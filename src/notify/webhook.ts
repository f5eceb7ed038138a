// Pure: may Flotilla POST to this webhook URL? https:// anywhere; plain http:// only to a host
// that never leaves the machine or the cluster (loopback, *.svc, *.cluster.local), since the body
// says what runs where and the signature alone does not hide it. The answer never repeats the
// URL: a Slack or Teams URL is itself a credential.

/** undefined when the URL may be used; otherwise why not, without the URL. `field` names where it came from. */
export function webhookUrlProblem(url: string, field = "spec.webhook.url"): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${field} is not a valid URL; write it as https://host/path`;
  }
  if (u.username || u.password) return `${field} carries a user or password; remove it and sign with spec.webhook.secretRef instead`;
  if (u.protocol === "https:") return undefined;
  if (u.protocol !== "http:") return `${field} must start with https:// (got ${u.protocol}//)`;
  if (isLocalHost(u.hostname)) return undefined;
  return `${field} uses http:// to a host outside the cluster; use https://, or http:// only to localhost, 127.0.0.0/8, ::1 or a cluster-local Service (*.svc, *.svc.cluster.local)`;
}

function isLocalHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h.endsWith(".svc") || h.endsWith(".cluster.local") || h.endsWith(".cluster.local.");
}
