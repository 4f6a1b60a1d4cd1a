package server_test

// Fuzz targets for the admission endpoints: raw bytes in, as the HTTP body.
// Run with `make fuzz` (hack/fuzz.sh); the seed corpus in testdata/fuzz and the
// f.Add seeds below run as ordinary tests in `go test`.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/server"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

func init() {
	// Without a logger, controller-runtime's delegating logger keeps every
	// WithValues call until one is set: memory grows and the fuzzer crawls.
	ctrllog.SetLogger(logr.Discard())
}

// fuzzHandlers are the handlers exactly as the server serves them, with the
// guide's policy and no cluster (deny mode everywhere).
var fuzzHandlers = server.Handlers(server.Options{Policy: admit.Static(policy.Default())})

// seedReviews are AdmissionReviews the API server sends, built from the fixtures.
func seedReviews(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, fx := range []struct{ file, kind, op string }{
		{"mutate/api-minimal.yaml", "Deployment", "CREATE"},
		{"mutate/api-minimal.golden.yaml", "Deployment", "UPDATE"},
		{"mutate/api-explicit-choices.yaml", "Deployment", "CREATE"},
		{"mutate/api-apiserver-defaulted.yaml", "Deployment", "CREATE"},
		{"mutate/controller-minimal.yaml", "StatefulSet", "CREATE"},
		{"admission/api-bad.yaml", "Deployment", "CREATE"},
		{"admission/controller-bad.yaml", "StatefulSet", "UPDATE"},
		{"mutate/not-laminar.yaml", "Deployment", "CREATE"},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		obj, err := yaml.YAMLToJSON(raw)
		if err != nil {
			f.Fatal(err)
		}
		req := map[string]any{
			"uid":       "fuzz-seed",
			"kind":      map[string]string{"group": "apps", "version": "v1", "kind": fx.kind},
			"resource":  map[string]string{"group": "apps", "version": "v1", "resource": strings.ToLower(fx.kind) + "s"},
			"namespace": "laminar", "operation": fx.op, "object": json.RawMessage(obj),
		}
		if fx.op == "UPDATE" {
			req["oldObject"] = json.RawMessage(obj)
		}
		b, err := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(``), []byte(`{}`), []byte(`null`), []byte(`{"request":null}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","object":{"spec":{"template":{"metadata":{"labels":{"app":"laminar-api"}}}}}}}`),
	)
}

func FuzzMutateReview(f *testing.F) {
	for _, s := range seedReviews(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkReview(t, server.MutatePath, body) })
}

func FuzzValidateReview(f *testing.F) {
	for _, s := range seedReviews(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkReview(t, server.ValidatePath, body) })
}

// checkReview sends body to the handler at path twice — through
// controller-runtime's HTTP adapter as served, and straight into Handle without
// panic recovery — and checks the answer's properties.
func checkReview(t *testing.T, path string, body []byte) {
	h := fuzzHandlers[path]
	panicsBefore := panics(t)

	// 1. As served: admission.Webhook decodes, recovers panics into a 500 and
	// counts them in controller_runtime_webhook_panics_total.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	(&admission.Webhook{Handler: h}).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &ar); err != nil || ar.Response == nil {
		t.Fatalf("answer is not an AdmissionReview with a response (%v): %.500s", err, rec.Body.String())
	}
	resp := ar.Response
	if after := panics(t); after != panicsBefore {
		t.Fatalf("the handler panicked (recovered): %v", resp.Result)
	}
	if resp.Result != nil && strings.Contains(resp.Result.Message, "[recovered]") {
		t.Fatalf("the handler panicked (recovered): %s", resp.Result.Message)
	}

	// What the API server sent, read as controller-runtime reads it (case-sensitive).
	in, decoded := decodeReview(body)
	if !decoded {
		if resp.Allowed {
			t.Fatalf("an undecodable review was allowed")
		}
		return
	}
	if resp.Allowed && (resp.UID == "" || resp.UID != in.UID) {
		t.Fatalf("allowed with uid %q, the request's is %q", resp.UID, in.UID)
	}
	if resp.UID != "" && resp.UID != in.UID {
		t.Fatalf("answer uid %q, the request's is %q", resp.UID, in.UID)
	}
	if !resp.Allowed && (resp.Result == nil || resp.Result.Message == "") {
		t.Fatalf("refused without a message")
	}
	if resp.Result != nil && resp.Result.Code >= 500 {
		t.Fatalf("server error %d: %s", resp.Result.Code, resp.Result.Message)
	}

	// 2. Straight into Handle, no recovery: a panic fails with its stack.
	direct := h.Handle(context.Background(), admission.Request{AdmissionRequest: in})
	if direct.Allowed != resp.Allowed {
		t.Fatalf("direct call allowed=%v, over HTTP allowed=%v", direct.Allowed, resp.Allowed)
	}

	switch path {
	case server.MutatePath:
		checkPatch(t, in, direct)
	case server.ValidatePath:
		checkNotAllowedByAccident(t, in, resp.Allowed)
	}
}

func panics(t *testing.T) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "controller_runtime_webhook_panics_total" {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

// decodeReview reads an AdmissionReview (v1 or v1beta1; they have the same shape)
// the way controller-runtime's admission codec does. ok is false when that
// decoding would fail or there is no request.
func decodeReview(body []byte) (admissionv1.AdmissionRequest, bool) {
	ar, err := decodeInto(body)
	if err != nil || ar.Request == nil {
		return admissionv1.AdmissionRequest{}, false
	}
	return *ar.Request, true
}

// checkPatch: a patch applies to the request's own object, the result is still
// the same kind of object, and mutating it again changes nothing.
func checkPatch(t *testing.T, in admissionv1.AdmissionRequest, resp admission.Response) {
	if !resp.Allowed {
		// The mutating webhook never denies; it refuses only what it cannot read.
		if resp.Result == nil || resp.Result.Code != http.StatusBadRequest {
			t.Fatalf("mutating webhook refused a %s: %v", in.Operation, resp.Result)
		}
		return
	}
	if len(resp.Patch) == 0 {
		return
	}
	ops := resp.Patch
	p, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatalf("undecodable patch: %v", err)
	}
	patched, err := p.Apply(in.Object.Raw)
	if err != nil {
		t.Fatalf("the patch does not apply to the request's object: %v\npatch: %s\nobject: %s", err, ops, in.Object.Raw)
	}
	if _, err := workload.Decode(schema.GroupVersionKind(in.Kind), patched); err != nil {
		t.Fatalf("the patched object no longer decodes: %v", err)
	}
	again := in.DeepCopy()
	again.Object.Raw = patched
	again.Object.Object = nil
	second := fuzzHandlers[server.MutatePath].Handle(context.Background(), admission.Request{AdmissionRequest: *again})
	if len(second.Patch) > 0 {
		out := second.Patch
		t.Fatalf("mutating the mutated object patches again: %s\nfirst patch: %s", out, ops)
	}
}

// checkNotAllowedByAccident: a Laminar workload the rule engine finds in breach of
// a deny rule is never allowed on CREATE (no ratchet) without an exemption
// annotation, in deny mode.
func checkNotAllowedByAccident(t *testing.T, in admissionv1.AdmissionRequest, allowed bool) {
	if !allowed || in.Operation != admissionv1.Create {
		return
	}
	gvk := schema.GroupVersionKind(in.Kind)
	obj, err := workload.Decode(gvk, in.Object.Raw)
	if err != nil {
		return
	}
	w, ok := workload.FromObject(obj)
	if !ok || w.Meta.DeletionTimestamp != nil {
		return
	}
	if _, exempted := w.Meta.Annotations[exempt.AnnotationRules]; exempted {
		return
	}
	c := validate.Context{Mode: policy.ModeDeny}
	// Objects with exemptions returned above, so no verdict here depends on the time.
	c.Ctx, c.Now = context.Background(), time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	if errs := validate.Judge(w, policy.Default(), c).Denials(); len(errs) > 0 {
		t.Fatalf("allowed although the rules deny it: %v", errs.ToAggregate())
	}
}

// reviewCodec decodes AdmissionReviews as controller-runtime's admission.Webhook
// does (pkg/webhook/admission/http.go): into a type the scheme does not know,
// defaulted to v1, so that v1beta1 reviews land in the v1 struct.
var reviewCodec = func() runtime.Decoder {
	sch := runtime.NewScheme()
	utilruntime.Must(admissionv1.AddToScheme(sch))
	utilruntime.Must(admissionv1beta1.AddToScheme(sch))
	return serializer.NewCodecFactory(sch).UniversalDeserializer()
}()

type unversionedReview struct {
	admissionv1.AdmissionReview
}

func decodeInto(body []byte) (*admissionv1.AdmissionReview, error) {
	ar := &unversionedReview{}
	ar.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
	if _, _, err := reviewCodec.Decode(body, nil, ar); err != nil {
		return nil, err
	}
	return &ar.AdmissionReview, nil
}
