# Sourced by hack/build-helm.sh and hack/build-kyverno.sh: builds one command of a
# pinned tools module (tools/NAME/{go.mod,go.sum}) from the Go module proxy —
# never a prebuilt download — into bin/NAME, with CGO off and -trimpath.
#
# It is a no-op when bin/.NAME.stamp records the same go.mod/go.sum, Go version
# and build recipe and the binary exists; FORCE=1 rebuilds anyway. Concurrent
# invocations are serialised, and the second finds the stamp fresh.
#
#   build_go_tool NAME MODULE PACKAGE RECIPE LDFLAGS
#
# MODULE is the module whose version is built (go list -m), PACKAGE the command.
# LDFLAGS may hold @VERSION@, replaced by that version. RECIPE is recorded in the
# stamp: change it whenever the flags change.

build_go_tool() {
  local name="$1" module="$2" package="$3" recipe="$4" ldflags="$5"
  local repo_root
  repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local mod_dir="${repo_root}/tools/${name}" bin_dir="${repo_root}/bin"
  local bin="${bin_dir}/${name}" stamp="${bin_dir}/.${name}.stamp" script="hack/build-${name}.sh"

  # The tools module is standalone: a go.work or an inherited -mod=vendor must not
  # change how it resolves. go.sum is committed, so -mod=readonly holds.
  export GOWORK=off
  export GOFLAGS=

  local want
  want="$({
    echo "recipe: ${recipe}"
    echo "go: $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
    cat "${mod_dir}/go.mod" "${mod_dir}/go.sum"
  } | sha256sum | cut -d' ' -f1)"
  up_to_date() {
    [[ -z "${FORCE:-}" && -x "${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]
  }
  if up_to_date; then
    return 0
  fi

  mkdir -p "${bin_dir}"
  exec 9>"${bin_dir}/.${name}.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if up_to_date; then
    return 0
  fi
  rm -f "${stamp}"

  local version
  version="$(cd "${mod_dir}" && go list -m -f '{{.Version}}' "${module}")"
  echo "${script}: building ${name} ${version} from the module proxy into ${bin}" >&2
  local start=${SECONDS}
  (cd "${mod_dir}" && CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags//@VERSION@/${version}}" -o "${bin}.tmp" "${package}")
  mv -f "${bin}.tmp" "${bin}"
  echo "${want}" >"${stamp}"
  echo "${script}: built in $((SECONDS - start))s" >&2
}
