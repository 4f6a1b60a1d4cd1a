package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIGracePeriod(t *testing.T) {
	const id = "set-api-grace-period"
	policyGrace := func(secs int64) func(*policy.Policy) {
		return func(p *policy.Policy) { p.API.TerminationGracePeriodSeconds = secs }
	}
	tests := []struct {
		name    string
		in      *int64
		policy  *policy.Policy
		changed bool
		want    *int64
	}{
		{name: "unset gets 60", in: nil, changed: true, want: i64(60)},
		{name: "the API server's 30 counts as unset", in: i64(30), changed: true, want: i64(60)},
		{name: "the API server's 30 is kept when the policy says it is a choice", in: i64(30), policy: pol(k8sDefaultsAsUnset(false)), want: i64(30)},
		{name: "unset still gets 60 when defaults are choices", in: nil, policy: pol(k8sDefaultsAsUnset(false)), changed: true, want: i64(60)},
		{name: "compliant 60 is kept", in: i64(60), want: i64(60)},
		{name: "an explicit 45 is kept", in: i64(45), want: i64(45)},
		{name: "an explicit 120 is kept", in: i64(120), want: i64(120)},
		{name: "an explicit 0 is kept", in: i64(0), want: i64(0)},
		{name: "policy figure is used", in: nil, policy: pol(policyGrace(90)), changed: true, want: i64(90)},
		{name: "the API server's 30 becomes the policy figure", in: i64(30), policy: pol(policyGrace(90)), changed: true, want: i64(90)},
		{name: "a policy of 30 leaves 30 alone", in: i64(30), policy: pol(policyGrace(30)), want: i64(30)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := minimalAPIDeployment(apiPod(func(s *corev1.PodSpec) {
				if tc.in != nil {
					s.TerminationGracePeriodSeconds = i64(*tc.in)
				}
			}))
			assert.Equal(t, tc.changed, runDefault(t, id, d, p))
			assert.Equal(t, tc.want, d.Spec.Template.Spec.TerminationGracePeriodSeconds)
			assertDefaultIdempotent(t, id, d, p)
		})
	}

	t.Run("the policy's value is not shared with the object", func(t *testing.T) {
		p := pol()
		d := minimalAPIDeployment()
		assert.True(t, runDefault(t, id, d, p))
		*d.Spec.Template.Spec.TerminationGracePeriodSeconds = 1
		assert.Equal(t, int64(60), p.API.TerminationGracePeriodSeconds)
	})

	t.Run("compliant object is kept", func(t *testing.T) {
		assertDefaultNoop(t, id, apiDeployment(), pol())
	})
}
