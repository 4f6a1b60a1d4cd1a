#!/usr/bin/env bash
# Builds Kyverno's admission controller (cmd/kyverno) from the Go module proxy
# (never a prebuilt download or image) into bin/kyverno, at the version pinned by
# tools/kyverno/{go.mod,go.sum}, stamp-guarded (hack/lib/build-go-tool.sh). Only
# `make load-peers` runs it: the side-by-side measurement in docs/performance.md.
# No test of the main module needs it. The cold build time is in
# docs/performance.md ("Side by side with Kyverno").
#
# Environment:
#   FORCE=1   rebuild even if the stamp matches
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/build-go-tool.sh"

# Kyverno's own Makefile builds with CGO_ENABLED=0 and these ldflags.
build_go_tool kyverno github.com/kyverno/kyverno github.com/kyverno/kyverno/cmd/kyverno \
  "v1 ldflags=-s,-w,BuildVersion trimpath cgo=0" \
  "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=@VERSION@"
