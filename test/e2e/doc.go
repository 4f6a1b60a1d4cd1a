// Package e2e tests laminar-ha-webhook end to end: a real etcd and kube-apiserver
// (envtest, binaries from `make controlplane`), the real webhook binary, and the
// webhook configurations from deploy/manifests, exercised through client-go,
// controller-runtime's client and the real kubectl. See internal/devenv.
//
//	make e2e
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s go test -count=1 ./test/e2e/...
package e2e
