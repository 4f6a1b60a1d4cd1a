package admit_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// TestSwitchingEnforcementBackOnIsRecorded: a namespace update that turns
// enforcement on from off MUST be stamped with the time, whatever else it
// carries; no other change is.
func TestSwitchingEnforcementBackOnIsRecorded(t *testing.T) {
	at := time.Date(2031, 6, 1, 10, 30, 0, 0, time.UTC)
	stamper := admit.NewNamespaceStamper(admit.Config{Policy: admit.Static(policy.Default()), Clock: func() time.Time { return at }})
	ns := func(labels, annotations string) string {
		return `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"` + labels + annotations + `}}`
	}
	const off, deny, warn, none = `,"labels":{"ha.laminar.io/enforce":"off"}`, `,"labels":{"ha.laminar.io/enforce":"deny"}`, `,"labels":{"ha.laminar.io/enforce":"warn"}`, ""
	update := func(object, old string) admission.Request {
		return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "n", Operation: admissionv1.Update,
			Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Name: "team",
			Object: runtime.RawExtension{Raw: []byte(object)}, OldObject: runtime.RawExtension{Raw: []byte(old)}}}
	}
	stamped := func(t *testing.T, r admission.Response) {
		t.Helper()
		require.True(t, r.Allowed, "%v", r.Result)
		require.Len(t, r.Patches, 1)
		raw, err := json.Marshal(r.Patches[0])
		require.NoError(t, err)
		assert.Contains(t, string(raw), "2031-06-01T10:30:00Z")
	}
	ctx := context.Background()

	r := stamper.Handle(ctx, update(ns(none, ""), ns(off, "")))
	stamped(t, r)
	assert.Equal(t, "/metadata/annotations", r.Patches[0].Path, "no annotations yet: the map is added")
	r = stamper.Handle(ctx, update(ns(warn, `,"annotations":{"team":"payments"}`), ns(off, "")))
	stamped(t, r)
	assert.Equal(t, "/metadata/annotations/ha.laminar.io~1enforced-since", r.Patches[0].Path)

	for name, req := range map[string]admission.Request{
		"switched off":         update(ns(off, ""), ns(deny, "")),
		"deny to warn":         update(ns(warn, ""), ns(deny, "")),
		"off stays off":        update(ns(off, `,"annotations":{"x":"y"}`), ns(off, "")),
		"an unknown value":     update(ns(`,"labels":{"ha.laminar.io/enforce":"maybe"}`, ""), ns(deny, "")),
		"not a namespace":      func() admission.Request { q := update(ns(none, ""), ns(off, "")); q.Kind.Kind = "ConfigMap"; return q }(),
		"create (nothing yet)": func() admission.Request { q := update(ns(none, ""), ""); q.Operation = admissionv1.Create; return q }(),
	} {
		r := stamper.Handle(ctx, req)
		assert.True(t, r.Allowed, name)
		assert.Empty(t, r.Patches, name)
	}
	r = stamper.Handle(ctx, update(`{"metadata":`, ns(off, "")))
	assert.False(t, r.Allowed)
	assert.EqualValues(t, 400, r.Result.Code)
	r = stamper.Handle(ctx, update(ns(none, ""), ""))
	assert.False(t, r.Allowed, "an update without its old object")
}
