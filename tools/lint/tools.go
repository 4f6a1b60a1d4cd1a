//go:build tools

// Package lint pins golangci-lint v2 for hack/lint.sh, which builds it from the
// Go module proxy into bin/golangci-lint. This module is standalone: its
// dependencies never enter the webhook's go.mod.
package lint

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
