#!/usr/bin/env bash
# Builds Helm from the Go module proxy into bin/helm, at the version pinned by
# tools/helm/{go.mod,go.sum}, stamp-guarded (hack/lib/build-go-tool.sh). The
# chart tests (test/helm) run it for `helm lint` and `helm template`. The cold
# build time is in README.md.
#
# Environment:
#   FORCE=1   rebuild even if the stamp matches
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/build-go-tool.sh"

# The same -X set as Helm's own Makefile for a tagged build; the module proxy has
# no git metadata, so the commit is left empty and the tree counts as clean.
build_go_tool helm helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm \
  "v1 ldflags=-s,-w,version trimpath cgo=0" \
  "-s -w -X helm.sh/helm/v4/internal/version.version=@VERSION@ -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
