package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIAntiAffinity(t *testing.T) {
	const id = "set-api-anti-affinity"
	hostnameTerm := func(weight int32, sel map[string]string) corev1.WeightedPodAffinityTerm {
		return corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: labelSelector(sel), TopologyKey: "kubernetes.io/hostname",
		}}
	}

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})

	t.Run("adds the guide's preferred hostname term", func(t *testing.T) {
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, pol()))
		aa := d.Spec.Template.Spec.Affinity.PodAntiAffinity
		require.NotNil(t, aa)
		assert.Empty(t, aa.RequiredDuringSchedulingIgnoredDuringExecution)
		assert.Equal(t, []corev1.WeightedPodAffinityTerm{hostnameTerm(100, apiLabels)}, aa.PreferredDuringSchedulingIgnoredDuringExecution)
		assertDefaultIdempotent(t, id, d, pol())
	})

	t.Run("selects the pods by the recommended labels when they carry those", func(t *testing.T) {
		d := minimalAPIDeployment(apiPodLabels(apiRecommendedLabels))
		assert.True(t, runDefault(t, id, d, pol()))
		terms := d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		require.Len(t, terms, 1)
		assert.Equal(t, apiRecommendedLabels, terms[0].PodAffinityTerm.LabelSelector.MatchLabels)
	})

	t.Run("selects only the role label, not every pod label", func(t *testing.T) {
		d := minimalAPIDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels["version"] = "1.0.0" })
		assert.True(t, runDefault(t, id, d, pol()))
		terms := d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		assert.Equal(t, apiLabels, terms[0].PodAffinityTerm.LabelSelector.MatchLabels)
	})

	t.Run("an existing preferred hostname term is the user's", func(t *testing.T) {
		other := hostnameTerm(10, map[string]string{"team": "x"})
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) {
			s.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{other}
		}))
		assertDefaultNoop(t, id, d, pol())
		assert.Equal(t, []corev1.WeightedPodAffinityTerm{other}, d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	})

	t.Run("an existing required hostname term is the user's", func(t *testing.T) {
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) {
			s.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: labelSelector(apiLabels), TopologyKey: "kubernetes.io/hostname",
			}}}
		}))
		assertDefaultNoop(t, id, d, pol())
	})

	// The list is atomic: a term appended to the user's would drift on every
	// apply, so none is, and api-anti-affinity asks the user for it.
	t.Run("a preferred list of the user's, on another key, is not appended to", func(t *testing.T) {
		zone := corev1.WeightedPodAffinityTerm{Weight: 50, PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: labelSelector(apiLabels), TopologyKey: "topology.kubernetes.io/zone",
		}}
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) {
			s.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{zone}
		}))
		assertDefaultNoop(t, id, d, pol())
		assertErrs(t, "api-anti-affinity", runCheck(t, "api-anti-affinity", d, pol()), required("spec.template.spec.affinity.podAntiAffinity"))
	})
	t.Run("a required term on another key: the preferred list is new, so the term is added", func(t *testing.T) {
		zone := corev1.PodAffinityTerm{LabelSelector: labelSelector(apiLabels), TopologyKey: "topology.kubernetes.io/zone"}
		d := apiDeployment(apiPod(func(s *corev1.PodSpec) {
			s.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{zone}}
		}))
		assert.True(t, runDefault(t, id, d, pol()))
		aa := d.Spec.Template.Spec.Affinity.PodAntiAffinity
		assert.Equal(t, []corev1.PodAffinityTerm{zone}, aa.RequiredDuringSchedulingIgnoredDuringExecution)
		assert.Equal(t, []corev1.WeightedPodAffinityTerm{hostnameTerm(100, apiLabels)}, aa.PreferredDuringSchedulingIgnoredDuringExecution)
		assertDefaultIdempotent(t, id, d, pol())
	})

	t.Run("node affinity is kept", func(t *testing.T) {
		na := &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"laminar"},
			}}}},
		}}
		d := minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{NodeAffinity: na} }))
		assert.True(t, runDefault(t, id, d, pol()))
		assert.Equal(t, na, d.Spec.Template.Spec.Affinity.NodeAffinity)
		assert.Len(t, d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, 1)
	})

	t.Run("policy topology key and weight", func(t *testing.T) {
		p := pol(func(p *policy.Policy) {
			p.API.AntiAffinity = policy.AntiAffinity{TopologyKey: "example.com/rack", Weight: 40}
		})
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, p))
		terms := d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		require.Len(t, terms, 1)
		assert.Equal(t, int32(40), terms[0].Weight)
		assert.Equal(t, "example.com/rack", terms[0].PodAffinityTerm.TopologyKey)
		assertDefaultIdempotent(t, id, d, p)
	})
}
