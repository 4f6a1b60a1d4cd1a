package mutate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// legacyAPI is api-minimal.yaml as a workload stored before the defaults
// existed: none of them in place, the API server's strategy filled in.
func legacyAPI(t *testing.T) *appsv1.Deployment {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "api-minimal.yaml"))
	require.NoError(t, err)
	obj, _, err := manifest.Decode(raw)
	require.NoError(t, err)
	return obj.(*appsv1.Deployment)
}

func wl(t *testing.T, d *appsv1.Deployment) *workload.Workload {
	t.Helper()
	w, ok := workload.FromObject(d)
	require.True(t, ok)
	return w
}

// An UPDATE that leaves the pod template as it was leaves it so: no rollout
// for a label. Defaults outside the template still apply, and those deferred
// are named.
func TestUpdateWithTheTemplateUnchangedDefersTemplateDefaults(t *testing.T) {
	old := legacyAPI(t)
	tests := []struct {
		name         string
		edit         func(d *appsv1.Deployment)
		wantTemplate bool // the template defaults apply
	}{
		{name: "a label", edit: func(d *appsv1.Deployment) { d.Labels["team"] = "payments" }},
		{name: "the replicas", edit: func(d *appsv1.Deployment) { n := int32(5); d.Spec.Replicas = &n }},
		{name: "nothing at all", edit: func(*appsv1.Deployment) {}},
		{name: "the opt-in annotation", edit: func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{mutate.AnnotationApplyDefaults: "true"}
		}, wantTemplate: true},
		{name: "the opt-in annotation, not true", edit: func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{mutate.AnnotationApplyDefaults: "yes"}
		}},
		{name: "the image", edit: func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "laminar/api:1.4.1" }, wantTemplate: true},
		{name: "a pod annotation (kubectl rollout restart)", edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
		}, wantTemplate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := old.DeepCopy()
			if d.Labels == nil {
				d.Labels = map[string]string{}
			}
			tc.edit(d)
			s := rules.Situation{Now: testNow, Old: wl(t, old.DeepCopy())}
			input := d.DeepCopy()
			res, err := mutate.Object(d, nil, policy.Default(), s)
			require.NoError(t, err)
			assert.Equal(t, input, d, "the input is never changed")
			got := res.Object.(*appsv1.Deployment)
			if !tc.wantTemplate {
				// The template put back is the copy's own, not the input's.
				again, err := mutate.Object(d, nil, policy.Default(), s)
				require.NoError(t, err)
				again.Object.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "changed"
				assert.Equal(t, input, d, "the input shares nothing the copy's template holds")
			}
			assert.Contains(t, res.Applied, "set-api-strategy", "the strategy rolls nothing and still applies")
			assert.Equal(t, int32(0), got.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal)
			if tc.wantTemplate {
				assert.Empty(t, res.Deferred)
				assert.Contains(t, res.Applied, "set-api-readiness-probe")
				assert.NotNil(t, got.Spec.Template.Spec.Containers[0].ReadinessProbe)
				return
			}
			assert.Equal(t, d.Spec.Template, got.Spec.Template, "the pod template is left as it was")
			assert.Equal(t, []string{"set-api-anti-affinity", "set-api-zone-spread", "set-api-liveness-probe", "set-api-readiness-probe",
				"set-api-startup-probe", "set-api-requests", "set-api-grace-period", "set-api-prestop"}, res.Deferred)
			assert.Equal(t, []string{"set-api-strategy"}, res.Applied)
			for _, op := range res.Patch {
				assert.NotContains(t, op.Path, "/spec/template", "no patch operation goes into the template")
			}

			// Pending is the object as the deferred defaults make it.
			was := got.DeepCopy()
			pending := mutate.Pending(wl(t, got), wl(t, old.DeepCopy()), policy.Default(), s)
			require.NotNil(t, pending)
			assert.NotNil(t, pending.Template.Spec.Containers[0].ReadinessProbe)
			assert.Nil(t, got.Spec.Template.Spec.Containers[0].ReadinessProbe, "Pending works on a copy")
			assert.Equal(t, was, got, "and leaves the object as it was, metadata included")
		})
	}

	t.Run("CREATE applies everything", func(t *testing.T) {
		res, err := mutate.Object(old.DeepCopy(), nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		assert.Empty(t, res.Deferred)
		assert.Contains(t, res.Applied, "set-api-prestop")
		assert.Nil(t, mutate.Pending(wl(t, old.DeepCopy()), nil, policy.Default(), rules.Situation{Now: testNow}))
	})
	t.Run("nothing pending once the defaults are in place", func(t *testing.T) {
		res, err := mutate.Object(old.DeepCopy(), nil, policy.Default(), rules.Situation{Now: testNow})
		require.NoError(t, err)
		stored := res.Object.(*appsv1.Deployment)
		edited := stored.DeepCopy()
		edited.Labels = map[string]string{"team": "payments"}
		s := rules.Situation{Now: testNow, Old: wl(t, stored)}
		again, err := mutate.Object(edited, nil, policy.Default(), s)
		require.NoError(t, err)
		assert.Empty(t, again.Deferred)
		assert.Empty(t, again.Patch)
		assert.Nil(t, mutate.Pending(wl(t, edited), wl(t, stored), policy.Default(), s))
	})
}
