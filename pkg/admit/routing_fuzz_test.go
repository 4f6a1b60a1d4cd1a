package admit_test

import (
	"context"
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// FuzzRoutingObjects sends any bytes as the object of a Service or an Ingress
// to the related handlers, with the api, its Service and the ALB's class in
// the cluster: they never panic, and an Ingress the mutator patches asks for
// no patch once patched (a second apply changes nothing).
func FuzzRoutingObjects(f *testing.F) {
	for _, obj := range []any{
		apiService(nil), ingress("alb", "laminar-api", nil), ingress("public", "laminar-api", map[string]string{"a": "b"}),
		ingress("nginx", "web", nil),
	} {
		raw, err := json.Marshal(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, false)
		f.Add(raw, true)
	}
	f.Add([]byte(`{"spec":{"defaultBackend":{}}}`), true)
	f.Add([]byte(`{"spec":{"rules":[{"http":null},{"http":{"paths":[{"backend":{"service":null}}]}}]}}`), true)
	f.Add([]byte(`{"spec":{"selector":{},"type":"ExternalName"}}`), false)
	f.Add([]byte(`null`), false)
	c := routingCluster(f)
	config := admit.Config{Policy: admit.Static(policy.Default()), Cluster: c}
	mutator, validator := admit.NewRelatedMutator(config), admit.NewRelatedValidator(config)
	f.Fuzz(func(t *testing.T, raw []byte, isIngress bool) {
		kind := serviceKind
		if isIngress {
			kind = ingressKind
		}
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "fuzz", Operation: admissionv1.Create, Namespace: "laminar", Kind: kind,
			Object: runtime.RawExtension{Raw: raw}}}
		ctx := context.Background()
		validator.Handle(ctx, req)
		r := mutator.Handle(ctx, req)
		if !r.Allowed || len(r.Patch) == 0 {
			return
		}
		patched := applyPatch(t, raw, r)
		req.Object = runtime.RawExtension{Raw: patched}
		if again := mutator.Handle(ctx, req); len(again.Patch) > 0 {
			t.Fatalf("a second pass patches again: %s\nfirst: %s\nthen: %s", again.Patch, raw, patched)
		}
		validator.Handle(ctx, req)
	})
}
