#!/usr/bin/env bash
# Runs every Go fuzz target of the module (func FuzzXxx(f *testing.F) in a
# *_test.go file) for FUZZTIME each, one after the other.
#
#   hack/fuzz.sh                      every target, FUZZTIME=3s each (what `make test` runs)
#   FUZZTIME=10m hack/fuzz.sh         a longer hunt
#   FUZZ_TARGETS=Rules hack/fuzz.sh   only targets whose name matches the regexp
#
# Environment:
#   FUZZTIME          per target, as go test -fuzztime: a duration (30s) or a count (1000x); default 3s
#   FUZZMINIMIZETIME  time to minimise each new input, as -fuzzminimizetime; default 2s
#                     (go's default, 60s, stalls short runs: a worker minimising a new
#                     interesting input reports no executions meanwhile)
#   FUZZ_TARGETS      regexp on target names; default: all
#   FUZZ_FRESH=1      start from the committed seeds only, with an empty fuzz cache
#                     (what `make test` does: its few seconds go to fuzzing, not to
#                     replaying a cache that grows with every long run)
#
# Each package's test binary is built once with fuzzing instrumentation and runs
# each of its targets from the package directory, with go's fuzz cache
# ($GOCACHE/fuzz), exactly as `go test -fuzz` does. The committed seed corpus is
# <pkg>/testdata/fuzz/<Target>/; a failing input is written there — fix the bug
# and commit the file as a regression seed. The corpus grown in the cache is
# replayed first (baseline coverage), which counts towards FUZZTIME.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZTIME="${FUZZTIME:-3s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-2s}"
FUZZ_TARGETS="${FUZZ_TARGETS:-.}"
cd "${REPO_ROOT}"

MODULE="$(go list -m)"
TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT
CACHE="$(go env GOCACHE)/fuzz"
if [[ -n "${FUZZ_FRESH:-}" ]]; then
  CACHE="${TMP}/fuzzcache"
fi

# package dir -> its fuzz targets
declare -A targets=()
while IFS=: read -r file name; do
  [[ "${name}" =~ ${FUZZ_TARGETS} ]] || continue
  dir="$(dirname "${file}")"
  targets["${dir}"]+="${name} "
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' \
  | xargs grep -hoH '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' \
  | sed -E 's/^([^:]+):func (Fuzz[A-Za-z0-9_]*)\(.*/\1:\2/' | sort -u)

if [[ ${#targets[@]} -eq 0 ]]; then
  echo "hack/fuzz.sh: no fuzz target matches '${FUZZ_TARGETS}'" >&2
  exit 1
fi

failed=()
summary=()
for dir in $(printf '%s\n' "${!targets[@]}" | sort); do
  pkg="${MODULE}/${dir#./}"
  bin="${TMP}/$(echo "${dir}" | tr '/' '_').fuzz.test"
  go test -c -fuzz=. -o "${bin}" "./${dir}"
  for t in ${targets[${dir}]}; do
    echo "=== fuzz ${pkg} ${t} for ${FUZZTIME}"
    log="${TMP}/${t}.log"
    start=$SECONDS
    run_target() {
      (cd "${dir}" && "${bin}" -test.run '^$' -test.fuzz "^${t}\$" -test.fuzztime "${FUZZTIME}" \
        -test.fuzzminimizetime "${FUZZMINIMIZETIME}" -test.fuzzcachedir "${CACHE}/${pkg}") 2>&1 | tee "${log}" || true
    }
    run_target
    # Go's fuzzing coordinator can report its own deadline ("context deadline
    # exceeded") when -fuzztime ends while a worker is busy, with no input found:
    # nothing is written under testdata/fuzz. That one outcome is run once more; a
    # real failure writes its input and fails again (the input is then a seed).
    if grep -q -- '--- FAIL' "${log}" && grep -qx '    context deadline exceeded' "${log}" &&
       [[ -z "$(git status --porcelain -- "${dir}/testdata/fuzz/${t}")" ]]; then
      echo "hack/fuzz.sh: ${t}: the fuzzing engine hit its deadline with no input found; running it once more" >&2
      run_target
    fi
    if grep -q '^PASS$' "${log}" && ! grep -q -- '--- FAIL' "${log}"; then
      last="$(grep -E '^fuzz: elapsed' "${log}" | tail -1 || true)"
      summary+=("fuzz passed: ${t} ($((SECONDS - start))s): ${last#fuzz: }")
    else
      failed+=("${t}")
      summary+=("fuzz FAILED: ${t}: failing input under ${dir}/testdata/fuzz/${t}/ (go test -run=${t}/<name> ./${dir})")
    fi
  done
done

echo "--- fuzz summary (FUZZTIME=${FUZZTIME})"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "hack/fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
