#!/usr/bin/env bash
# Builds Kyverno's admission controller (cmd/kyverno) from the Go module proxy
# (never a prebuilt download or image) into bin/kyverno, at the version pinned by
# tools/kyverno/{go.mod,go.sum}. Only `make load-peers` runs it: the side-by-side
# measurement in docs/performance.md. No test of the main module needs it.
#
# It is a no-op when bin/.kyverno.stamp records the same go.mod/go.sum, Go
# version and build recipe and the binary exists. The cold build time is in
# docs/performance.md ("Side by side with Kyverno").
#
# Environment:
#   FORCE=1   rebuild even if the stamp matches
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="${REPO_ROOT}/tools/kyverno"
BIN_DIR="${REPO_ROOT}/bin"
BIN="${BIN_DIR}/kyverno"
STAMP="${BIN_DIR}/.kyverno.stamp"

# The tools module is standalone: a go.work or an inherited -mod=vendor must not
# change how it resolves. go.sum is committed, so -mod=readonly holds.
export GOWORK=off
export GOFLAGS=

# Bump when the build recipe below changes.
RECIPE="v1 ldflags=-s,-w,BuildVersion trimpath cgo=0"

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
exec 9>"${BIN_DIR}/.kyverno.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if up_to_date; then
  exit 0
fi
rm -f "${STAMP}"

version="$(cd "${MOD_DIR}" && go list -m -f '{{.Version}}' github.com/kyverno/kyverno)"
echo "hack/build-kyverno.sh: building kyverno ${version} from the module proxy into ${BIN}" >&2
start=${SECONDS}
# Kyverno's own Makefile builds with CGO_ENABLED=0 and these ldflags.
(cd "${MOD_DIR}" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=${version}" \
  -o "${BIN}.tmp" github.com/kyverno/kyverno/cmd/kyverno)
mv -f "${BIN}.tmp" "${BIN}"
echo "${WANT}" >"${STAMP}"
echo "hack/build-kyverno.sh: built in $((SECONDS - start))s" >&2
