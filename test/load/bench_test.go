package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/review"
	"github.com/laminar/ha-webhook/pkg/server"
)

// BenchmarkServeHTTP is the server side of the load run without TLS and
// sockets: the load mix through controller-runtime's admission.Webhook with
// the no-op handler, and through pkg/review's Handler with
// laminar-ha-webhook's handlers, as each server wires them. The difference is
// what our handlers add per request; profile it with -cpuprofile.
func BenchmarkServeHTTP(b *testing.B) {
	ctrllog.SetLogger(logr.Discard())
	root, err := devenv.FindRepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	corpus, err := BuildCorpus(root)
	if err != nil {
		b.Fatal(err)
	}
	p := admit.Static(policy.Default())
	noop := &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})}
	for _, tc := range []struct {
		name             string
		mutate, validate http.Handler
	}{
		{"noop", noop, noop},
		{"laminar", &review.Handler{Webhook: &admission.Webhook{Handler: admit.NewMutator(admit.Config{Policy: p})}, Objects: server.ObjectsDecodedInPass(server.MutatePath)},
			&review.Handler{Webhook: &admission.Webhook{Handler: admit.NewValidator(admit.Config{Policy: p})}, Objects: server.ObjectsDecodedInPass(server.ValidatePath)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			total := 0
			for _, r := range corpus.Reviews {
				total += len(r.Body)
			}
			b.SetBytes(int64(total / len(corpus.Reviews)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := &corpus.Reviews[i%len(corpus.Reviews)]
				i++
				h := tc.validate
				if r.Path == "/mutate" {
					h = tc.mutate
				}
				req := httptest.NewRequest(http.MethodPost, r.Path, bytes.NewReader(r.Body))
				req.Header.Set("Content-Type", "application/json")
				if tc.name != "noop" {
					// As pkg/server's limiter hands bodies on, read already.
					review.Hold(req, r.Body)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: HTTP %d", r.Name, rec.Code)
				}
			}
		})
	}
}
