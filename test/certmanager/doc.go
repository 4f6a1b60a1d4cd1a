// Package certmanager proves the production install (deploy/manifests, the
// Dockerfile, docs/install.md) end to end with real cert-manager:
//
//   - a real etcd and kube-apiserver (envtest, binaries from `make controlplane`)
//     with cert-manager's CRDs from the cert-manager module;
//   - cert-manager's own controllers (self-signed and CA issuers, the whole
//     Certificate lifecycle, CertificateRequest approval) and its CA injector,
//     run in the test process;
//   - the chart (charts/laminar-ha-webhook) installed, upgraded and uninstalled
//     with real Helm (bin/helm) as docs/install.md writes it, and its default
//     rendering (`helm template`) applied with kubectl;
//   - `kubectl apply -k deploy/manifests`, as a user installs it;
//   - the webhook binary built with the Dockerfile's flags, run locally with the
//     cert-manager-issued Secret and the policy ConfigMap projected into its
//     directories as a kubelet would, under its ServiceAccount's own token, and
//     reached by the API server through an ExternalName Service (as
//     internal/devenv does).
//
// There is no kubelet, so the Deployment's pods never run; everything else is
// what a cluster does.
//
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s go test -count=1 -v ./test/certmanager/
package certmanager
