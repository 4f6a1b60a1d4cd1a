//go:build tools

// Package helm pins the Helm command that hack/build-helm.sh builds from the Go
// module proxy into bin/helm, which the chart tests (test/helm) run. This module
// is standalone: Helm's dependencies never enter the webhook's go.mod.
package helm

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
