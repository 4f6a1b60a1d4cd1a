#!/usr/bin/env bash
# Builds Helm from the Go module proxy (never a prebuilt download) into bin/helm,
# at the version pinned by tools/helm/{go.mod,go.sum}. The chart tests
# (test/helm) run it for `helm lint` and `helm template`.
#
# It is a no-op when bin/.helm.stamp records the same go.mod/go.sum, Go version
# and build recipe and the binary exists. The cold build time is in README.md.
#
# Environment:
#   FORCE=1   rebuild even if the stamp matches
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="${REPO_ROOT}/tools/helm"
BIN_DIR="${REPO_ROOT}/bin"
BIN="${BIN_DIR}/helm"
STAMP="${BIN_DIR}/.helm.stamp"

# The tools module is standalone: a go.work or an inherited -mod=vendor must not
# change how it resolves. go.sum is committed, so -mod=readonly holds.
export GOWORK=off
export GOFLAGS=

# Bump when the build recipe below changes.
RECIPE="v1 ldflags=-s,-w,version trimpath cgo=0"

compute_stamp() {
  {
    echo "recipe: ${RECIPE}"
    echo "go: $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
    cat "${MOD_DIR}/go.mod" "${MOD_DIR}/go.sum"
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -z "${FORCE:-}" && -x "${BIN}" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANT}" ]]
}

WANT="$(compute_stamp)"
if up_to_date; then
  exit 0
fi

mkdir -p "${BIN_DIR}"
# Serialise concurrent invocations; the second one finds the stamp fresh.
exec 9>"${BIN_DIR}/.helm.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if up_to_date; then
  exit 0
fi
rm -f "${STAMP}"

version="$(cd "${MOD_DIR}" && go list -m -f '{{.Version}}' helm.sh/helm/v4)"
echo "hack/build-helm.sh: building helm ${version} from the module proxy into ${BIN}" >&2
start=${SECONDS}
# The same -X set as Helm's own Makefile for a tagged build; the module proxy has
# no git metadata, so the commit is left empty and the tree counts as clean.
(cd "${MOD_DIR}" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${version} -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
  -o "${BIN}.tmp" helm.sh/helm/v4/cmd/helm)
mv -f "${BIN}.tmp" "${BIN}"
echo "${WANT}" >"${STAMP}"
echo "hack/build-helm.sh: built in $((SECONDS - start))s" >&2
