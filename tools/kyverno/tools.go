//go:build tools

// Package kyverno pins Kyverno, whose admission controller hack/build-kyverno.sh
// builds from the Go module proxy into bin/kyverno for `make load-peers` (the
// side-by-side measurement in docs/performance.md). This module is standalone:
// Kyverno's dependencies never enter the webhook's go.mod, and no test of the
// main module needs the binary.
package kyverno

import (
	_ "github.com/kyverno/kyverno/cmd/kyverno"
)
