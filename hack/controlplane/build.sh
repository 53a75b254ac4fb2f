#!/usr/bin/env bash
# Build (or reuse) the local control plane binaries: kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd and kwok, each from its Go module through a wrapper module in this folder.
#
#   hack/controlplane/build.sh              build if needed; the last line printed is the bin dir
#   hack/controlplane/build.sh --print-bin  print the bin dir without building (exit 1 if absent)
#
# Binaries live outside the work tree, in
#   ${MS_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelservice/controlplane}/<key>/bin
# where <key> hashes the wrapper files, the build recipe below and the Go version. A build holds
# an flock on <key>.lock, so concurrent callers wait for one build and then reuse it.
# Progress goes to stderr; stdout carries only the bin dir.
set -euo pipefail
export GOTOOLCHAIN=local CGO_ENABLED=0
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-build}

log() { printf '[controlplane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed (the control plane is built from Go modules)"
command -v flock >/dev/null || die "flock is not installed (util-linux)"

# Everything that changes the binaries is part of the cache key: these flags, the wrapper
# modules (go.mod, go.sum, main.go) and the Go toolchain.
goflags=(-mod=readonly -trimpath -buildvcs=false)
recipe="v1 CGO_ENABLED=0 ${goflags[*]} -ldflags=-s -w + version stamps"
key=$(
    {
        echo "$recipe"
        go version
        go env GOOS GOARCH
        cd "$here" && find kube etcd kwok -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) \
            | LC_ALL=C sort | xargs sha256sum
    } | sha256sum | cut -c1-16
)
cache_root=${MS_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelservice/controlplane}
dir=$cache_root/$key
bin=$dir/bin
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)

complete() {
    [[ -f $dir/.complete && -f $bin/versions.env && -f $bin/kwok-stages.yaml ]] || return 1
    local b
    for b in "${binaries[@]}"; do [[ -x $bin/$b ]] || return 1; done
}

# KWOK's default stages (what `kwokctl` configures) ship as YAML inside its module: node
# initialisation, a lease heartbeat, and pods turning Running, completing and being deleted.
# The standalone kwok binary needs them through --config.
write_kwok_stages() {
    local src out=$1
    src=$(cd "$here/kwok" && go list -mod=readonly -m -f '{{.Dir}}' sigs.k8s.io/kwok)
    {
        echo "# KWOK stages copied from $(basename "$src")/kustomize/stage by build.sh."
        local f
        for f in node/fast/node-initialize.yaml \
            node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
            pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
            echo "---"
            cat "$src/kustomize/stage/$f"
        done
    } >"$out.tmp"
    mv "$out.tmp" "$out"
}

# kubectl has its own wrapper module and its own cache key, so it came to the plane without
# rebuilding the rest. `--print-kubectl` prints its path.
kubectl_key=$(
    {
        echo "$recipe"
        go version
        go env GOOS GOARCH
        cd "$here" && find kubectl -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) \
            | LC_ALL=C sort | xargs sha256sum
    } | sha256sum | cut -c1-16
)
kubectl=$cache_root/kubectl-$kubectl_key/kubectl

if [[ $mode == --print-kubectl ]]; then
    [[ -x $kubectl ]] || die "kubectl not built for key $kubectl_key: run 'make controlplane'"
    echo "$kubectl"
    exit 0
fi

ensure_kubectl() {
    [[ -x $kubectl ]] && return 0
    log "building kubectl"
    local version flags="-s -w"
    version=$(cd "$here/kubectl" && go list -mod=readonly -m -f '{{.Version}}' k8s.io/kubectl)
    version=v1.${version#v0.}
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$version -X $pkg.gitTreeState=clean"
    done
    mkdir -p "$(dirname "$kubectl")"
    (cd "$here/kubectl" && go build "${goflags[@]}" -ldflags "$flags" -o "$kubectl.tmp" .)
    mv "$kubectl.tmp" "$kubectl"
    log "kubectl $version built"
}

if [[ $mode == --print-bin ]]; then
    complete || die "control plane binaries not built for key $key: run 'make controlplane'"
    echo "$bin"
    exit 0
elif [[ $mode != build ]]; then
    die "usage: $0 [--print-bin | --print-kubectl]"
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/$key.lock"
if ! flock -n 9; then
    log "another build of $key is running; waiting for its lock"
    flock 9
fi

if complete; then
    log "cache hit: $dir"
    ensure_kubectl
    echo "$bin"
    exit 0
fi

mod_version() { (cd "$here/$1" && go list -mod=readonly -m -f '{{.Version}}' "$2"); }
kube_version=$(mod_version kube k8s.io/kubernetes)
etcd_version=$(mod_version etcd go.etcd.io/etcd/server/v3)
kwok_version=$(mod_version kwok sigs.k8s.io/kwok)

log "cache miss: building into $dir ($(go version | cut -d' ' -f3), $(nproc) cores)"
log "kubernetes $kube_version, etcd $etcd_version, kwok $kwok_version"
rm -rf "$dir"
mkdir -p "$dir/tmp"
start=$SECONDS

# The release's tag time from the module proxy's .info, so that the binaries are reproducible.
info=$(cd "$here/kube" && go mod download -json "k8s.io/kubernetes@$kube_version" \
    | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
build_date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info")
[[ -n $build_date ]] || die "no release time in $info"
minor=${kube_version#v1.}
minor=${minor%%.*}
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
    kube_ldflags+=" -X $pkg.gitCommit="
done

log "building kube-apiserver, kube-controller-manager, kube-scheduler (the long step)"
(cd "$here/kube" && go build "${goflags[@]}" -ldflags "$kube_ldflags" -o "$dir/tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler)
log "kubernetes done after $((SECONDS - start)) s; building etcd"
(cd "$here/etcd" && go build "${goflags[@]}" \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$etcd_version" \
    -o "$dir/tmp/etcd" .)
log "etcd done after $((SECONDS - start)) s; building kwok"
(cd "$here/kwok" && go build "${goflags[@]}" -ldflags "-s -w" -o "$dir/tmp/kwok" \
    sigs.k8s.io/kwok/cmd/kwok)
log "kwok done after $((SECONDS - start)) s"
write_kwok_stages "$dir/tmp/kwok-stages.yaml"

cat >"$dir/tmp/versions.env" <<VERSIONS
KUBERNETES_VERSION=$kube_version
ETCD_VERSION=$etcd_version
KWOK_VERSION=$kwok_version
GO_VERSION=$(go env GOVERSION)
BUILD_SECONDS=$((SECONDS - start))
VERSIONS
mv "$dir/tmp" "$bin"
ensure_kubectl
touch "$dir/.complete"
log "built in $((SECONDS - start)) s"
echo "$bin"
