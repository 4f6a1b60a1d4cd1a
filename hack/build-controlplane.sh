#!/usr/bin/env bash
# Builds the real control-plane binaries used by envtest-based tests from the
# Go module proxy (no prebuilt downloads, no setup-envtest):
#
#   bin/k8s/kube-apiserver           k8s.io/kubernetes/cmd/kube-apiserver           v1.37.2
#   bin/k8s/kube-controller-manager  k8s.io/kubernetes/cmd/kube-controller-manager  v1.37.2
#   bin/k8s/kube-scheduler           k8s.io/kubernetes/cmd/kube-scheduler           v1.37.2
#   bin/k8s/kubectl                  k8s.io/kubernetes/cmd/kubectl                  v1.37.2
#   bin/k8s/etcd                     go.etcd.io/etcd/server/v3                      v3.7.3
#   bin/k8s/kwok                     sigs.k8s.io/kwok/cmd/kwok                      v0.8.0
#   bin/k8s/kwok-stages.yaml         the node and pod stages shipped in that module
#
# Versions are pinned by the committed tools modules
#   tools/controlplane/kube/{go.mod,go.sum}
#   tools/controlplane/etcd/{go.mod,go.sum}
#   tools/controlplane/kwok/{go.mod,go.sum}
# Point envtest at the result with KUBEBUILDER_ASSETS=<repo>/bin/k8s.
#
# It is a no-op (a few milliseconds) when bin/k8s/.stamp records the same
# go.mod/go.sum contents, Go version and build recipe and all binaries exist.
# A cold build takes ~14 min on a 2-core machine (see hack/README-controlplane.md).
#
# Environment:
#   CONTROLPLANE_BIN_DIR  output directory (default: <repo>/bin/k8s)
#   FORCE=1               rebuild even if the stamp matches
#   KUBE_GIT_COMMIT       optional upstream commit to embed (with gitTreeState=clean)
#   ETCD_GIT_SHA          optional upstream commit to embed in etcd --version
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBE_MOD_DIR="${REPO_ROOT}/tools/controlplane/kube"
ETCD_MOD_DIR="${REPO_ROOT}/tools/controlplane/etcd"
KWOK_MOD_DIR="${REPO_ROOT}/tools/controlplane/kwok"
BIN_DIR="${CONTROLPLANE_BIN_DIR:-${REPO_ROOT}/bin/k8s}"
STAMP="${BIN_DIR}/.stamp"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
# KWOK refuses to start without stages; these are the ones devenv uses, copied
# from the pinned module so they always match the binary.
KWOK_STAGES=(node/fast/node-initialize.yaml
             node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
OUTPUTS=("${BINARIES[@]}" kwok-stages.yaml)

# The tools modules are standalone; never let a go.work or an inherited
# GOFLAGS=-mod=vendor change how they resolve. go.sum is committed, so the
# default -mod=readonly is what we want.
export GOWORK=off
export GOFLAGS="${GOFLAGS:-}"
GOFLAGS="$(sed -e 's/-mod=[a-z]*//g' <<<"${GOFLAGS}")"

# Bump when the build recipe below (flags, tags, ldflags layout) changes.
RECIPE="v2 kube-tags=selinux,notest,grpcnotrace ldflags=-s,-w trimpath cgo=0 kwok-stages=${KWOK_STAGES[*]}"

compute_stamp() {
  {
    echo "recipe: ${RECIPE}"
    echo "go: $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
    echo "kube-git-commit: ${KUBE_GIT_COMMIT:-}"
    echo "etcd-git-sha: ${ETCD_GIT_SHA:-}"
    cat "${KUBE_MOD_DIR}/go.mod" "${KUBE_MOD_DIR}/go.sum" \
        "${ETCD_MOD_DIR}/go.mod" "${ETCD_MOD_DIR}/go.sum" \
        "${KWOK_MOD_DIR}/go.mod" "${KWOK_MOD_DIR}/go.sum"
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -z "${FORCE:-}" && -f "${STAMP}" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "${BIN_DIR}/${b}" ]] || return 1
  done
  [[ -f "${BIN_DIR}/kwok-stages.yaml" ]] || return 1
  [[ "$(cat "${STAMP}")" == "${WANT}" ]]
}

WANT="$(compute_stamp)"
if up_to_date; then
  exit 0
fi

mkdir -p "${BIN_DIR}"
# Serialise concurrent invocations (e.g. parallel test jobs); the second one
# waits and then finds the stamp up to date.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${BIN_DIR}/.lock"
  flock 9
  if up_to_date; then
    exit 0
  fi
fi

rm -f "${STAMP}"

mod_field() { # dir module template
  (cd "$1" && go list -m -f "$3" "$2")
}

KUBE_VERSION="$(mod_field "${KUBE_MOD_DIR}" k8s.io/kubernetes '{{.Version}}')"
ETCD_VERSION="$(mod_field "${ETCD_MOD_DIR}" go.etcd.io/etcd/server/v3 '{{.Version}}')"
KWOK_VERSION="$(mod_field "${KWOK_MOD_DIR}" sigs.k8s.io/kwok '{{.Version}}')"
# Reproducible build date: the publication time of the k8s.io/kubernetes tag.
KUBE_BUILD_DATE="$(mod_field "${KUBE_MOD_DIR}" k8s.io/kubernetes \
  '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}')"
KUBE_BUILD_DATE="${KUBE_BUILD_DATE:-1970-01-01T00:00:00Z}"

if [[ ! "${KUBE_VERSION}" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  echo "unexpected k8s.io/kubernetes version '${KUBE_VERSION}'" >&2
  exit 1
fi
KUBE_MAJOR="${BASH_REMATCH[1]}"
KUBE_MINOR="${BASH_REMATCH[2]}"

# Same -X set as k8s.io/kubernetes hack/lib/version.sh (kube::version::ldflags).
kube_ldflags=()
add_kube_ldflag() {
  kube_ldflags+=("-X 'k8s.io/client-go/pkg/version.$1=$2'"
                 "-X 'k8s.io/component-base/version.$1=$2'")
}
add_kube_ldflag buildDate "${KUBE_BUILD_DATE}"
if [[ -n "${KUBE_GIT_COMMIT:-}" ]]; then
  add_kube_ldflag gitCommit "${KUBE_GIT_COMMIT}"
  add_kube_ldflag gitTreeState clean
fi
add_kube_ldflag gitVersion "${KUBE_VERSION}"
add_kube_ldflag gitMajor "${KUBE_MAJOR}"
add_kube_ldflag gitMinor "${KUBE_MINOR}"
KUBE_LDFLAGS="all=${kube_ldflags[*]} -s -w"

# pkg/consts already carries the tag's version in the module source.
KWOK_LDFLAGS="-s -w"

ETCD_LDFLAGS="-s -w"
if [[ -n "${ETCD_GIT_SHA:-}" ]]; then
  ETCD_LDFLAGS+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_GIT_SHA}"
fi

TMP_DIR="$(mktemp -d "${BIN_DIR}/.build.XXXXXX")"
trap 'rm -rf "${TMP_DIR}"' EXIT

build() { # name moddir ldflags tags package
  local name="$1" dir="$2" ldflags="$3" tags="$4" pkg="$5" start
  start=${SECONDS}
  echo "build-controlplane: building ${name} (${pkg}) ..."
  (cd "${dir}" && CGO_ENABLED=0 go build -trimpath -tags "${tags}" \
      -ldflags "${ldflags}" -o "${TMP_DIR}/${name}" "${pkg}")
  echo "build-controlplane:   ${name} done in $((SECONDS - start))s"
}

echo "build-controlplane: kubernetes ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, $(go env GOVERSION) -> ${BIN_DIR}"
TOTAL_START=${SECONDS}
# Sequential on purpose: each `go build` already uses every core.
build kube-apiserver "${KUBE_MOD_DIR}" "${KUBE_LDFLAGS}" selinux,notest,grpcnotrace \
  k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager "${KUBE_MOD_DIR}" "${KUBE_LDFLAGS}" selinux,notest,grpcnotrace \
  k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler "${KUBE_MOD_DIR}" "${KUBE_LDFLAGS}" selinux,notest,grpcnotrace \
  k8s.io/kubernetes/cmd/kube-scheduler
build kubectl "${KUBE_MOD_DIR}" "${KUBE_LDFLAGS}" selinux,notest,grpcnotrace \
  k8s.io/kubernetes/cmd/kubectl
build etcd "${ETCD_MOD_DIR}" "${ETCD_LDFLAGS}" "" \
  go.etcd.io/etcd/server/v3
build kwok "${KWOK_MOD_DIR}" "${KWOK_LDFLAGS}" "" \
  sigs.k8s.io/kwok/cmd/kwok

# One multi-document file, as `kwok --config` reads it.
KWOK_SRC="$(mod_field "${KWOK_MOD_DIR}" sigs.k8s.io/kwok '{{.Dir}}')/kustomize/stage"
for f in "${KWOK_STAGES[@]}"; do
  echo "---"
  echo "# sigs.k8s.io/kwok@${KWOK_VERSION} kustomize/stage/${f}"
  cat "${KWOK_SRC}/${f}"
done > "${TMP_DIR}/kwok-stages.yaml"

for b in "${OUTPUTS[@]}"; do
  mv -f "${TMP_DIR}/${b}" "${BIN_DIR}/${b}"
done
echo "${WANT}" > "${STAMP}"
echo "build-controlplane: all done in $((SECONDS - TOTAL_START))s"
