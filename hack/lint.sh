#!/usr/bin/env bash
# Runs golangci-lint v2 with the committed .golangci.yml over the module.
#
# golangci-lint is built from the Go module proxy (never a prebuilt download)
# into bin/golangci-lint, at the version pinned by tools/lint/{go.mod,go.sum}.
# The build is a no-op when bin/.golangci-lint.stamp records the same
# go.mod/go.sum and Go version and the binary exists; a cold build takes a few
# minutes on 2 cores.
#
# Usage:
#   hack/lint.sh                 build if needed, then lint ./...
#   hack/lint.sh --build-only    only build
#   hack/lint.sh ARGS...         extra golangci-lint run arguments (e.g. ./pkg/server/...)
#
# Environment:
#   FORCE=1   rebuild even if the stamp matches
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="${REPO_ROOT}/tools/lint"
BIN_DIR="${REPO_ROOT}/bin"
BIN="${BIN_DIR}/golangci-lint"
STAMP="${BIN_DIR}/.golangci-lint.stamp"

# The tools module is standalone; a go.work or GOFLAGS=-mod=vendor must not
# change how it resolves. go.sum is committed: the default -mod=readonly holds.
export GOWORK=off

compute_stamp() {
  {
    echo "go: $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
    cat "${MOD_DIR}/go.mod" "${MOD_DIR}/go.sum"
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -z "${FORCE:-}" && -x "${BIN}" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANT}" ]]
}

WANT="$(compute_stamp)"
if ! up_to_date; then
  mkdir -p "${BIN_DIR}"
  # Serialise concurrent invocations; the second one finds the stamp fresh.
  exec 9>"${BIN_DIR}/.golangci-lint.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if ! up_to_date; then
    rm -f "${STAMP}"
    version="$(cd "${MOD_DIR}" && GOFLAGS= go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2)"
    echo "hack/lint.sh: building golangci-lint ${version} from the module proxy into ${BIN}" >&2
    start=$SECONDS
    (cd "${MOD_DIR}" && GOFLAGS= CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${version#v} -X main.commit=module-proxy -X main.date=unknown" \
      -o "${BIN}.tmp" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
    mv "${BIN}.tmp" "${BIN}"
    echo "${WANT}" >"${STAMP}"
    echo "hack/lint.sh: built in $((SECONDS - start))s" >&2
  fi
fi

if [[ "${1:-}" == "--build-only" ]]; then
  exit 0
fi

cd "${REPO_ROOT}"
# Wait for another run (a second checkout, an editor) instead of failing on its lock.
exec "${BIN}" run --allow-serial-runners "$@"
