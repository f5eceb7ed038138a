# The Flotilla controller image (the CLI; `controller` by default).
#
# NEVER BUILT HERE: the machines this repository is developed and tested on have no container
# runtime, so no image is published. test/unit/deploy/dockerfile.test.ts checks what can be
# checked without one: every path copied exists and is not in .dockerignore, what the runtime
# stage takes is in the npm package, and the user is 65532. Build and push it yourself:
#   docker build -t REGISTRY/flotilla:0.1.0 . && docker push REGISTRY/flotilla:0.1.0
# then `flotilla install --image REGISTRY/flotilla:0.1.0` (docs/install.md).

FROM node:20-bookworm-slim AS build
# Stock git for the controller's Git server (`git http-backend`, docs/git.md): the runtime stage
# takes the git binary, git-http-backend and the libraries they link beyond glibc (zlib, pcre2),
# gathered under /git-runtime with their paths. Fetches run `git upload-pack`, which is git itself.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /git-runtime \
 && cp --parents -L /usr/bin/git /usr/lib/git-core/git-http-backend \
      $(ldd /usr/bin/git /usr/lib/git-core/git-http-backend | awk '$3 ~ /^\// && $1 !~ /^(libc\.so|ld-linux)/ {print $3}' | sort -u) \
      /git-runtime/
WORKDIR /build
COPY package.json package-lock.json ./
# Without scripts: `prepare` compiles, and the sources are not here yet (a dependency layer that
# survives source changes). No production dependency has an install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json vite.config.ts ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
COPY definitions ./definitions
COPY crds ./crds
COPY kube-schemas ./kube-schemas
COPY deploy ./deploy

# Node.js 20 and git (for `git http-backend`), and nothing else: no shell, no package manager.
# `:nonroot` runs as 65532.
FROM gcr.io/distroless/nodejs20-debian12:nonroot
COPY --from=build /git-runtime/ /
WORKDIR /opt/flotilla
# Owned by root and read-only to the process, which writes only under its --data-dir.
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/dist/ui ./dist/ui
COPY --from=build /build/definitions ./definitions
COPY --from=build /build/crds ./crds
COPY --from=build /build/kube-schemas ./kube-schemas
COPY --from=build /build/deploy ./deploy
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/main.js"]
CMD ["controller"]
