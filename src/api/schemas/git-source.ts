// The schema of GitSource: a team's Git repository whose YAML files the controller applies to the
// hub (src/controller/git-sources.ts). A source applies into its own namespace only; the
// credentials it names stay in their Secret and never reach status.

import { conditionList, duration, type Schema } from "./common.js";

const str = (description: string): Schema => ({ type: "string", description });

export const gitSourceSpecSchema: Schema = {
  type: "object",
  required: ["url"],
  additionalProperties: false,
  description: "Which repository, ref and folder to read, how often, and with which credentials.",
  properties: {
    url: {
      type: "string",
      minLength: 1,
      description:
        "The repository: an https:// URL (http:// on a trusted network), or a local path or file:// URL of a repository on a volume the controller mounts. No credentials in the URL: use secretRef.",
    },
    ref: {
      type: "object",
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      description: "What to check out: exactly one of branch, tag or commit. Default: branch main.",
      properties: {
        branch: { type: "string", minLength: 1, description: "A branch, followed as it moves, e.g. main." },
        tag: { type: "string", minLength: 1, description: "A tag, e.g. v1.2.0; a tag moved on the server is followed too." },
        commit: {
          type: "string",
          pattern: "^[0-9a-f]{40}$",
          description: "A full commit id (40 hexadecimal digits): exactly that commit, which must be reachable from a branch or tag of the repository.",
        },
      },
    },
    path: {
      type: "string",
      description:
        "The folder of the repository whose *.yaml and *.yml files (and those of its subfolders) are applied, relative to the repository's root. Default: the whole repository (.).",
    },
    interval: duration("How often the repository is fetched. Default 1m; a webhook (spec.webhook) fetches at once."),
    secretRef: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      description:
        "The Secret, in the GitSource's namespace, holding the credentials for an https:// URL: the key token (sent as the password of HTTP basic auth, as GitHub, GitLab and Gitea accept it), or the keys username and password. Never logged and never in status.",
      properties: { name: str("Name of the Secret.") },
    },
    webhook: {
      type: "object",
      required: ["secretRef"],
      additionalProperties: false,
      description: "A webhook that fetches the repository at once when the Git server calls POST /hooks/<namespace>/<name> on the controller.",
      properties: {
        secretRef: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          description: "The Secret, in the GitSource's namespace, holding the webhook's shared secret, with which the Git server signs its calls.",
          properties: {
            name: str("Name of the Secret."),
            key: str("Key of the Secret's data holding the shared secret. Default token."),
          },
        },
      },
    },
    suspend: { type: "boolean", description: "Nothing is fetched, applied or pruned while true; what was applied stays. Default false." },
    prune: {
      type: "boolean",
      description:
        "Delete the objects this source applied once their file is gone from the repository, and all of them when the GitSource is deleted. Objects it did not create are never touched. Default true.",
    },
  },
};

export const gitSourceStatusSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description: "What the controller fetched and applied; written by the controller only.",
  properties: {
    observedGeneration: { type: "integer", description: "The metadata.generation this status was written for." },
    lastFetchedCommit: str("The commit the ref pointed at in the last successful fetch."),
    appliedCommit: str("The last commit whose objects were all applied; kept when a newer commit is refused or invalid."),
    lastFetchTime: str("When the repository was last fetched successfully (RFC 3339)."),
    inventory: {
      type: "array",
      description: "The objects this source applied at appliedCommit, and the file each came from: what it prunes when a file goes.",
      items: {
        type: "object",
        required: ["apiVersion", "kind", "name", "file"],
        additionalProperties: false,
        description: "One applied object.",
        properties: {
          apiVersion: str("The object's apiVersion."),
          kind: str("The object's kind."),
          name: str("The object's name."),
          namespace: str("The object's namespace; absent for cluster-scoped kinds."),
          file: str("The file, relative to the repository's root, the object came from."),
        },
      },
    },
    conditions: conditionList(
      "Ready: True with reason Applied once the fetched commit is applied; False with reason FetchFailed, InvalidDocument, Refused, ApplyFailed or Suspended, and a message naming the file and field.",
    ),
  },
};
