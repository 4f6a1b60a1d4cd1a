package validate_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

func loadObject(t *testing.T, path string) runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	return obj
}

func asWorkload(t *testing.T, obj runtime.Object) *workload.Workload {
	t.Helper()
	w, ok := workload.FromObject(obj)
	require.True(t, ok)
	return w
}

// An UPDATE whose pod template mutation left as it was (the defaults wait
// for its next change) is judged against those defaults: a denial they would
// fix, which the old object had too, only warns as pending. Anything else is
// judged as before, so leaving the template alone opens no way around a rule.
// Ratcheting is off throughout: pending does not depend on it.
func TestPendingDefaults(t *testing.T) {
	const fixtures = "../../test/testdata/mutate/"
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p := policy.Default()
	p.Enforcement.Ratchet = false
	tests := []struct {
		name    string
		fixture string
		old     func(runtime.Object) // the stored object, from the fixture
		edit    func(runtime.Object) // the update, from the stored object
		denied  []string
		pending []string
	}{
		{name: "a label on a workload stored without the defaults",
			fixture: "api-minimal.yaml",
			edit:    func(o runtime.Object) { o.(*appsv1.Deployment).Labels = map[string]string{"team": "payments"} },
			pending: []string{"api-readiness-probe", "api-liveness-probe", "api-anti-affinity", "api-zone-spread"}},
		{name: "a scale-down to 1 by edit is still denied",
			fixture: "api-minimal.yaml",
			edit:    func(o runtime.Object) { o.(*appsv1.Deployment).Spec.Replicas = ptr[int32](1) },
			denied:  []string{"replicas-min"},
			pending: []string{"api-readiness-probe", "api-liveness-probe", "api-anti-affinity", "api-zone-spread"}},
		// The old object had no violation to carry: a single replica needs no
		// leader election. Scaling it to 3 with the template as it is would run
		// three leaders; it is denied, not left pending.
		{name: "a scale-up that needs leader election the old object did not",
			fixture: "controller-minimal.yaml",
			old:     func(o runtime.Object) { o.(*appsv1.StatefulSet).Spec.Replicas = ptr[int32](1) },
			edit:    func(o runtime.Object) { o.(*appsv1.StatefulSet).Spec.Replicas = ptr[int32](3) },
			denied:  []string{"controller-leader-election"},
			pending: []string{"controller-anti-affinity"}},
		// No default fixes an explicit --leader-elect=false: it stays denied.
		{name: "a violation no default fixes",
			fixture: "controller-leader-elect-false.yaml",
			edit:    func(o runtime.Object) { o.(*appsv1.StatefulSet).Labels = map[string]string{"team": "payments"} },
			denied:  []string{"controller-leader-election"},
			pending: []string{"controller-anti-affinity"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored := loadObject(t, fixtures+tc.fixture)
			if tc.old != nil {
				tc.old(stored)
			}
			obj := stored.DeepCopyObject()
			tc.edit(obj)
			old := asWorkload(t, stored)
			s := rules.Situation{Now: now, Old: old}
			res, err := mutate.Object(obj, nil, p, s)
			require.NoError(t, err)
			w := asWorkload(t, res.Object)
			c := validate.Context{Mode: policy.ModeDeny, Situation: rules.Situation{Now: now, Old: old},
				Pending: mutate.Pending(w, old, p, s)}
			d := validate.Judge(w, p, c)
			assert.ElementsMatch(t, tc.denied, d.RuleIDs(validate.OutcomeDeny), "denied")
			assert.ElementsMatch(t, tc.pending, d.RuleIDs(validate.OutcomePending), "pending")
			for _, f := range d.Findings {
				if f.Outcome == validate.OutcomePending {
					assert.Contains(t, d.Warnings(), validate.FitWarning(validate.PrefixPending+validate.Warning(f.Err)))
				}
			}

			// Without the pending defaults (mutation off in the namespace) the
			// same update is judged as any other.
			c.Pending = nil
			assert.Empty(t, validate.Judge(w, p, c).RuleIDs(validate.OutcomePending))
		})
	}
}
