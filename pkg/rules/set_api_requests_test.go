package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIRequests(t *testing.T) {
	const id = "set-api-requests"
	q := resource.MustParse
	guide := corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("512Mi")}

	tests := []struct {
		name    string
		in      corev1.ResourceRequirements
		policy  *policy.Policy
		changed bool
		want    corev1.ResourceRequirements
	}{
		{name: "nothing requested gets the guide's requests", changed: true,
			want: corev1.ResourceRequirements{Requests: guide}},
		{name: "an empty request list is filled", in: corev1.ResourceRequirements{Requests: corev1.ResourceList{}}, changed: true,
			want: corev1.ResourceRequirements{Requests: guide}},
		{name: "explicit requests are kept",
			in:   corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceMemory: q("4Gi")}},
			want: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceMemory: q("4Gi")}}},
		{name: "a small explicit request is the user's",
			in:   corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("128Mi")}},
			want: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("128Mi")}}},
		{name: "only the missing request is filled",
			in:      corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("1")}},
			changed: true,
			want:    corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("512Mi")}}},
		{name: "a limit-only resource is untouched",
			in:      corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("250m")}},
			changed: true,
			want: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: q("250m")},
				Requests: corev1.ResourceList{corev1.ResourceMemory: q("512Mi")},
			}},
		{name: "limit-only resources are untouched",
			in:   corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("250m"), corev1.ResourceMemory: q("256Mi")}},
			want: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("250m"), corev1.ResourceMemory: q("256Mi")}}},
		{name: "other resources do not count",
			in:      corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: q("1Gi")}},
			changed: true,
			want: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceEphemeralStorage: q("1Gi"), corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("512Mi"),
			}}},
		{name: "policy figures are used",
			policy:  pol(func(p *policy.Policy) { p.API.Requests = policy.ResourceRequest{CPU: q("1"), Memory: q("1Gi")} }),
			changed: true,
			want:    corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("1Gi")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := minimalAPIDeployment(apiMain(func(c *corev1.Container) { c.Resources = *tc.in.DeepCopy() }))
			assert.Equal(t, tc.changed, runDefault(t, id, d, p))
			assert.Equal(t, tc.want, d.Spec.Template.Spec.Containers[0].Resources)
			assertDefaultIdempotent(t, id, d, p)
		})
	}

	t.Run("the policy's quantities are copied, not shared", func(t *testing.T) {
		p := pol()
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, p))
		got := d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
		got.Add(q("1"))
		assert.Equal(t, "500m", p.API.Requests.CPU.String())
	})

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})

	t.Run("no containers", func(t *testing.T) {
		assertDefaultNoop(t, id, minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol())
	})

	t.Run("main container", func(t *testing.T) {
		testAPIMainContainerSelection(t, func(t *testing.T, d *appsv1.Deployment, p *policy.Policy) []bool {
			assert.True(t, runDefault(t, id, d, p))
			var got []bool
			for _, c := range d.Spec.Template.Spec.Containers {
				got = append(got, len(c.Resources.Requests) > 0)
			}
			return got
		})
	})
}
