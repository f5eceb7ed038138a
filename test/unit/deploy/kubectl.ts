/** The kubectl whose kustomize builds deploy/: $KUBECTL, else the one on PATH (the setup script installs Debian's). */
export const KUBECTL = process.env.KUBECTL ?? "kubectl";
