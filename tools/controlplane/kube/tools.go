//go:build tools

// Package tools pins the Kubernetes control-plane commands that
// hack/build-controlplane.sh builds (kube-apiserver, kube-controller-manager,
// kube-scheduler and kubectl v1.37.2), so
// that `go mod tidy` keeps their full dependency graph in go.mod/go.sum.
// etcd lives in the sibling module ../etcd so both keep their upstream pins.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
