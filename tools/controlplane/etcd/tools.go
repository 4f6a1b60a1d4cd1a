//go:build tools

// Package tools pins the etcd server (the `etcd` binary is the main package at
// the root of go.etcd.io/etcd/server/v3) that hack/build-controlplane.sh
// builds. It is a module of its own, separate from ../kube, so that neither
// etcd's nor Kubernetes' dependency pins are raised by the other's (with one
// module MVS would bump grpc, otel, x/net, ... inside kube-apiserver).
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
