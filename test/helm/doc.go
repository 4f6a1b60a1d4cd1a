// Package helm proves the chart (charts/laminar-ha-webhook) with real Helm
// (bin/helm, `make helm`) and a real kube-apiserver and kubectl (bin/k8s):
//
//   - `helm lint` and `helm template` for several value sets, and values the
//     schema must refuse;
//
//   - the default rendering against `kubectl kustomize deploy/manifests`,
//     compared as objects, so the two install paths cannot drift apart;
//
//   - the policy value loaded by the webhook's own policy loader and binary;
//
//   - the self-managed certificates install applied with kubectl (server-side
//     dry run, then for real), the webhook binary run with the rendered
//     Deployment's arguments under its ServiceAccount's token: issuance, CA
//     injection, admission through TLS the API server verifies, and a forced
//     rotation under a stream of admissions that must all be answered right.
//
//     go test -count=1 -v ./test/helm/
package helm
