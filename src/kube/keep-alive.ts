// @kubernetes/client-node 1.x gives every API call a new https.Agent, and a new agent has no idle
// connection to reuse: each call to the hub opened its own TLS connection (a full handshake on both
// sides) and closed it. At a thousand deployments that is most of the controller's CPU while it
// writes status, and a pull-mode agent's while it writes its reports. This KubeConfig hands every
// call one keep-alive agent per distinct set of TLS options instead, so calls share a few
// long-lived connections.

import { Agent as HttpsAgent } from "node:https";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";

/**
 * Connections per agent, open at once and kept idle alike. A bound on both: with more in flight
 * than idle ones kept (a burst of status writes and Events), every burst dialed the connections
 * above the idle limit again and closed them after it — a TLS handshake per extra call on both
 * sides. Calls beyond the bound wait for a connection instead.
 */
const MAX_SOCKETS = 32;

export class KeepAliveKubeConfig extends KubeConfig {
  private readonly agents = new Map<string, HttpsAgent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    // Proxy agents and plain-HTTP agents keep the library's behaviour.
    if (!made || made.constructor !== HttpsAgent) return;
    const options = (made as HttpsAgent).options;
    // The TLS options come from the kubeconfig (and its files), so they rarely change; when they
    // do (a rotated client certificate) the new set gets its own agent.
    const key = JSON.stringify([options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername]);
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new HttpsAgent({ ...options, keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS });
      this.agents.set(key, agent);
    }
    context.setAgent(agent);
  }

  /** Close idle connections (at shutdown, so the process can exit at once). */
  destroyAgents(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/** A copy of `kc` whose API clients reuse connections. */
export function keepAliveKubeConfig(kc: KubeConfig): KeepAliveKubeConfig {
  const copy = new KeepAliveKubeConfig();
  copy.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.getCurrentContext() });
  return copy;
}
