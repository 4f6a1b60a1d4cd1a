# laminar-ha-webhook — every target a new machine needs; only Go, git and gcc are assumed.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
K8S_ASSETS := $(BIN)/k8s
export KUBEBUILDER_ASSETS := $(K8S_ASSETS)

.PHONY: all build controlplane test unit e2e run docs check-docs lint-fmt vet clean

all: build

## build: the webhook binary into bin/laminar-ha-webhook
build:
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/laminar-ha-webhook ./cmd/webhook

## controlplane: kube-apiserver, etcd and kubectl built from the Go module proxy into bin/k8s (no-op when built)
controlplane:
	bash hack/build-controlplane.sh

## test: formatting, vet, docs freshness, unit and e2e tests against a real API server
test: controlplane lint-fmt vet
	go test -count=1 ./...

## unit: tests that need no control plane
unit:
	go test -count=1 $$(go list ./... | grep -v -e /test/e2e -e /test/certmanager)

## e2e: only the end-to-end suite
e2e: controlplane
	go test -count=1 -v ./test/e2e/...

## run: local etcd + kube-apiserver + the webhook, with kubeconfig and examples
# Built, then run, so Ctrl-C ends with the program's own exit status (go run
# always reports 1 after an interrupt).
run: controlplane build
	go build -o $(BIN)/laminar-dev ./hack/run
	$(BIN)/laminar-dev

## docs: regenerate docs/rules.md from the rule catalog
docs:
	go run ./hack/gendocs > docs/rules.md

lint-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

clean:
	rm -rf $(BIN)/laminar-ha-webhook
