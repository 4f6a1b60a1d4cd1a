//go:build tools

// Package tools pins KWOK (the `kwok` controller, v0.8.0) that
// hack/build-controlplane.sh builds. It is a module of its own, like ../etcd,
// so that KWOK's dependency pins and Kubernetes' in ../kube never raise each
// other: KWOK talks to kube-apiserver only over the API, so the two need not
// share a client-go.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
