# laminar-ha-webhook — every target a new machine needs; only Go, git and gcc are assumed.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
K8S_ASSETS := $(BIN)/k8s
export KUBEBUILDER_ASSETS := $(K8S_ASSETS)

.PHONY: all build controlplane helm kyverno load-peers test unit e2e sim run scenarios scenarios-doc docs check-docs lint-fmt vet clean race fuzz fuzz-short lint reliability-full bench load load-e2e cachemem crds auditload scaleload

# Per fuzz target: 3s in `make test`, as long as you like with `make fuzz FUZZTIME=10m`.
FUZZTIME ?= 3s

all: build

## build: the webhook binary into bin/laminar-ha-webhook
build:
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/laminar-ha-webhook ./cmd/webhook

## controlplane: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok built from the
## Go module proxy into bin/k8s (no-op when built)
controlplane:
	bash hack/build-controlplane.sh

## helm: Helm (the version tools/helm pins) built from the Go module proxy into bin/helm (no-op when built)
helm:
	bash hack/build-helm.sh

## kyverno: Kyverno's admission controller (the version tools/kyverno pins) built from the Go module proxy into
## bin/kyverno (no-op when built); only load-peers runs it, no test needs it
kyverno:
	bash hack/build-kyverno.sh

## test: formatting, vet, golangci-lint, the race detector over the unit packages, a short run of
## every fuzz target, then unit, reliability, e2e and install tests against a real API server
test: controlplane helm lint-fmt vet lint race fuzz-short
	go test -count=1 ./...

## race: unit, handler and command tests under the race detector
race:
	go test -race -count=1 ./pkg/... ./internal/... ./cmd/...

## fuzz: every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m), growing go's fuzz cache
fuzz:
	FUZZTIME=$(FUZZTIME) bash hack/fuzz.sh

# fuzz-short: what `make test` runs: every target from the committed seeds only (empty fuzz cache)
fuzz-short:
	FUZZ_FRESH=1 FUZZTIME=$(FUZZTIME) bash hack/fuzz.sh

## lint: golangci-lint v2 with .golangci.yml (built from the module proxy into bin/ once, then a no-op)
lint:
	bash hack/lint.sh

## reliability-full: the reliability tests with the 30 s certificate-rotation run, printing their figures
reliability-full:
	RELIABILITY_FULL=1 go test -count=1 -v ./test/reliability

## bench: Go benchmarks of the admission path and of the load mix (docs/performance.md)
bench:
	go test -run '^$$' -bench . -benchmem ./pkg/admit/ ./test/load/

## load: laminar-ha-webhook vs a no-op webhook over HTTPS (ARGS="-repeat 3")
load:
	go run ./test/load $(ARGS)

## load-e2e: the same plus end to end through kube-apiserver
load-e2e: controlplane
	go run ./test/load -e2e $(ARGS)

## load-peers: end to end through kube-apiserver, side by side: no webhook, the no-op, ours, Kyverno (a ClusterPolicy
## doing the same job, checked to reach our verdicts first) and a ValidatingAdmissionPolicy (ARGS="-e2e-requests 1000")
load-peers: controlplane kyverno
	go run ./test/load -handler=false -e2e -kyverno-binary $(BIN)/kyverno $(ARGS)

## cachemem: the cluster cache's memory with many large Deployments, before and after slimming (ARGS="-n 2500")
cachemem: controlplane
	go run ./test/cachemem $(ARGS)

## unit: tests that need no control plane
unit:
	go test -count=1 $$(go list ./... | grep -v -e /test/e2e -e /test/certmanager -e /test/sim -e /test/scenarios -e /test/helm)

## e2e: only the end-to-end suite
e2e: controlplane
	go test -count=1 -v ./test/e2e/...

## sim: only the simulated-cluster tests (scheduler, controller manager, kwok nodes, zonal volumes)
sim: controlplane
	go test -count=1 -v ./test/sim/...

## scenarios: only the HA scenario suite (create, rollouts, drains, node failure, zone outage, hostile topologies)
scenarios: controlplane
	go test -count=1 -v ./test/scenarios/...

## scenarios-doc: run the scenario suite and regenerate docs/ha-scenarios.md from its figures
scenarios-doc: controlplane
	SCENARIOS_DOC=$(CURDIR)/docs/ha-scenarios.md go test -count=1 -v ./test/scenarios/...

## run: local etcd + kube-apiserver + the webhook in a simulated 3-zone cluster, with kubeconfig and examples
## (ARGS="-cluster=no-zones", one-zone, two-nodes, or none for the API server alone)
# Built, then run, so Ctrl-C ends with the program's own exit status (go run
# always reports 1 after an interrupt).
run: controlplane build
	go build -o $(BIN)/laminar-dev ./hack/run
	$(BIN)/laminar-dev $(ARGS)

## auditload: the background audit over 2,000 and 10,000 workloads: pass times, report writes, memory (ARGS="-n 2000,10000")
auditload: controlplane
	go run ./test/auditload $(ARGS)

## scaleload: the webhook process with 1,000 and 10,000 workloads (Deployment, budget, autoscaler) in the
## cluster: RSS and heap once its cache has synced, admission latency and CPU while it is full (ARGS="-n 0,1000")
scaleload: controlplane
	go run ./test/scaleload $(ARGS)

## crds: copy the OpenReports Report CRD the audit writes from its Go module into deploy/manifests
crds:
	cp "$$(go list -m -f '{{.Dir}}' github.com/openreports/reports-api)/config/crd/openreports.io_reports.yaml" deploy/manifests/
	chmod 644 deploy/manifests/openreports.io_reports.yaml

## docs: regenerate docs/rules.md from the rule catalog
docs:
	go run ./hack/gendocs > docs/rules.md

lint-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

clean:
	rm -rf $(BIN)/laminar-ha-webhook
