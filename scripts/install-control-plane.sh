#!/usr/bin/env bash
# Installs what the local fleet needs: Debian's etcd-server, kubectl (Debian's kubernetes-client,
# unless a kubectl is already on PATH; the integration tests drive the fleet with it), promtool
# (Debian's prometheus; the tests lint the controller's /metrics with it), Chromium (Debian's
# chromium; the web UI's browser tests drive it headless through playwright-core), and
# kube-apiserver + kube-controller-manager built once from Debian's kubernetes source package.
# Idempotent and cached: when the binaries are in the cache it only checks etcd and exits.
# Safe to run twice at once: everything happens under one lock.
set -euo pipefail

K8S_VERSION=v1.20.2
# Bumped whenever the build recipe changes, so a cached binary from an older recipe is rebuilt.
# Build 2: vendored reflect2 replaced by Debian's 1.0.2 (1.0.1 crashes under Go >= 1.18).
BUILD_ID=2
CACHE_DIR="${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}"
BIN_DIR="${FLOTILLA_K8S_BIN_DIR:-$CACHE_DIR/kubernetes/$K8S_VERSION-$BUILD_ID/bin}"
LOCK="$CACHE_DIR/install.lock"

log() { printf '[install-control-plane] %s\n' "$*" >&2; }

have_binaries() {
  [ -x "$BIN_DIR/kube-apiserver" ] && [ -x "$BIN_DIR/kube-controller-manager" ]
}
have_etcd() { command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ]; }
have_kubectl() { command -v kubectl >/dev/null 2>&1; }
have_promtool() { command -v promtool >/dev/null 2>&1; }
have_chromium() { [ -x /usr/bin/chromium ]; }

if have_binaries && have_etcd && have_kubectl && have_promtool && have_chromium; then
  exit 0
fi

mkdir -p "$CACHE_DIR"
exec 9>"$LOCK"
if ! flock -n 9; then
  log "another install is running; waiting for it"
  flock 9
fi
# The other holder may have finished the work while we waited.
if have_binaries && have_etcd && have_kubectl && have_promtool && have_chromium; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

SRC_LIST=/etc/apt/sources.list.d/flotilla-bookworm-src.sources
need_update=0
if [ ! -f "$SRC_LIST" ]; then
  log "adding a deb-src entry for bookworm main ($SRC_LIST)"
  $SUDO tee "$SRC_LIST" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi

missing=()
have_etcd || missing+=(etcd-server)
have_kubectl || missing+=(kubernetes-client)
have_promtool || missing+=(prometheus)
have_chromium || missing+=(chromium)
have_binaries || { command -v go >/dev/null 2>&1 || [ -x /usr/lib/go/bin/go ] || missing+=(golang-go); }
have_binaries || command -v rsync >/dev/null 2>&1 || missing+=(rsync)
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
have_binaries || [ -f "$REFLECT2_SRC/go_above_118.go" ] || missing+=(golang-github-modern-go-reflect2-dev)
have_binaries || command -v make >/dev/null 2>&1 || missing+=(make)

if [ "$need_update" = 1 ] || [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get update"
  $SUDO apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Installing etcd-server may start a system etcd on 127.0.0.1:2379/2380. The fleet never needs
# those ports (its etcd listens on free ports it picks itself), so a system etcd cannot collide
# with it. We only undo the autostart that *this* install caused, through the service manager,
# and never kill processes by name: an etcd that was there before us may be someone's.
# The same holds for the Prometheus server that comes with promtool: only promtool is used.
stop_autostart() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now "$1" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$1" ]; then
    $SUDO "/etc/init.d/$1" stop >/dev/null 2>&1 || true
  fi
}
if [ "${#missing[@]}" -gt 0 ] && [[ " ${missing[*]} " == *" etcd-server "* ]]; then stop_autostart etcd; fi
if [ "${#missing[@]}" -gt 0 ] && [[ " ${missing[*]} " == *" prometheus "* ]]; then stop_autostart prometheus; fi

if have_binaries; then
  exit 0
fi

export PATH="/usr/lib/go/bin:$PATH"
WORK="$CACHE_DIR/kubernetes/build"
mkdir -p "$WORK"
cd "$WORK"
tarball=$(ls kubernetes_*.orig.tar.gz 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
  log "downloading Debian's kubernetes source package"
  apt-get source --download-only kubernetes >/dev/null
  tarball=$(ls kubernetes_*.orig.tar.gz | head -n 1)
fi
SRC="$WORK/src"
if [ ! -f "$SRC/.unpacked" ]; then
  log "unpacking $tarball"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  tar -xzf "$tarball" -C "$SRC" --strip-components=1
  touch "$SRC/.unpacked"
fi
cd "$SRC"
mkdir -p .go/src/k8s.io
[ -e .go/src/k8s.io/kubernetes ] || ln -s ../../.. .go/src/k8s.io/kubernetes
# The vendored reflect2 1.0.1 walks Go maps through unsafe offsets that changed in Go 1.18, so
# kube-apiserver built with bookworm's Go 1.19 segfaults when it encodes a custom resource.
# Debian's reflect2 1.0.2 has the fix and the same API.
log "replacing vendored reflect2 with Debian's $(dpkg-query -W -f '${Version}' golang-github-modern-go-reflect2-dev)"
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp "$REFLECT2_SRC"/*.go vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/*_test.go
GOHOME=$(mktemp -d)
ticker=""
# The ticker must never outlive the script (Ctrl-C, a failed build): kill it on exit, and let it
# notice on its own when the script is gone.
trap 'rm -rf "$GOHOME"; [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true' EXIT
log "building kube-apiserver and kube-controller-manager (about 4-8 minutes cold on 2 cores)"
start=$(date +%s)
parent=$$
(
  while sleep 30 && kill -0 "$parent" 2>/dev/null; do log "still building... $(( $(date +%s) - start ))s"; done
) &
ticker=$!
set +e
env HOME="$GOHOME" GOPATH="$SRC/.go" GOCACHE="$CACHE_DIR/go-build" CGO_ENABLED=0 \
  KUBE_GIT_VERSION="$K8S_VERSION" KUBE_GIT_TREE_STATE=clean \
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$WORK/build.log" 2>&1
rc=$?
set -e
kill "$ticker" 2>/dev/null || true
if [ "$rc" != 0 ]; then
  log "build failed (exit $rc); last lines of $WORK/build.log:"
  tail -n 30 "$WORK/build.log" >&2
  exit "$rc"
fi
mkdir -p "$BIN_DIR"
for b in kube-apiserver kube-controller-manager; do
  cp "$SRC/_output/local/go/bin/$b" "$BIN_DIR/$b.tmp"
  mv "$BIN_DIR/$b.tmp" "$BIN_DIR/$b"
done
log "built in $(( $(date +%s) - start ))s; binaries in $BIN_DIR"
# The source tree is large and no longer needed; the Go build cache keeps rebuilds fast.
rm -rf "$SRC"
