package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetControllerAntiAffinity(t *testing.T) {
	const id = "set-controller-anti-affinity"
	requiredTerm := func(key string, sel map[string]string) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{LabelSelector: labelSelector(sel), TopologyKey: key}
	}
	preferredTerm := func(key string, sel map[string]string) corev1.WeightedPodAffinityTerm {
		return corev1.WeightedPodAffinityTerm{Weight: 100, PodAffinityTerm: requiredTerm(key, sel)}
	}
	const hostname, zone = "kubernetes.io/hostname", "topology.kubernetes.io/zone"

	tests := []struct {
		name          string
		in            *corev1.PodAntiAffinity
		labels        map[string]string
		policy        *policy.Policy
		changed       bool
		wantRequired  []corev1.PodAffinityTerm
		wantPreferred []corev1.WeightedPodAffinityTerm
	}{
		{name: "adds the guide's required hostname term", changed: true,
			wantRequired: []corev1.PodAffinityTerm{requiredTerm(hostname, controllerLabels)}},
		{name: "selects the recommended labels", labels: controllerRecommendedLabels, changed: true,
			wantRequired: []corev1.PodAffinityTerm{requiredTerm(hostname, controllerRecommendedLabels)}},
		{name: "an existing required hostname term is kept",
			in:           &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{requiredTerm(hostname, controllerLabels)}},
			wantRequired: []corev1.PodAffinityTerm{requiredTerm(hostname, controllerLabels)}},
		{name: "an existing preferred hostname term is the user's choice (validation judges it)",
			in:            &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{preferredTerm(hostname, controllerLabels)}},
			wantPreferred: []corev1.WeightedPodAffinityTerm{preferredTerm(hostname, controllerLabels)}},
		// The list is atomic: an appended term would drift on every apply.
		{name: "a required list of the user's, on another key, is not appended to",
			in:           &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{requiredTerm(zone, controllerLabels)}},
			wantRequired: []corev1.PodAffinityTerm{requiredTerm(zone, controllerLabels)}},
		{name: "a preferred term on another key: the required list is new, so the term is added",
			in:            &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{preferredTerm(zone, controllerLabels)}},
			changed:       true,
			wantRequired:  []corev1.PodAffinityTerm{requiredTerm(hostname, controllerLabels)},
			wantPreferred: []corev1.WeightedPodAffinityTerm{preferredTerm(zone, controllerLabels)}},
		{name: "policy topology key",
			policy:       pol(func(p *policy.Policy) { p.Controller.AntiAffinity.TopologyKey = zone }),
			changed:      true,
			wantRequired: []corev1.PodAffinityTerm{requiredTerm(zone, controllerLabels)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := minimalControllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
				if tc.in != nil {
					s.Affinity = &corev1.Affinity{PodAntiAffinity: tc.in.DeepCopy()}
				}
			}))
			if tc.labels != nil {
				ctlPodLabels(tc.labels)(s)
			}
			assert.Equal(t, tc.changed, runDefault(t, id, s, p))
			aa := s.Spec.Template.Spec.Affinity.PodAntiAffinity
			require.NotNil(t, aa)
			assert.Equal(t, tc.wantRequired, aa.RequiredDuringSchedulingIgnoredDuringExecution)
			assert.Equal(t, tc.wantPreferred, aa.PreferredDuringSchedulingIgnoredDuringExecution)
			assertDefaultIdempotent(t, id, s, p)
		})
	}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, controllerStatefulSet(), pol())
	})

	t.Run("applies to a controller Deployment too", func(t *testing.T) {
		d := controllerDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Affinity = nil })
		assert.True(t, runDefault(t, id, d, pol()))
		assert.Len(t, d.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, 1)
	})
}
