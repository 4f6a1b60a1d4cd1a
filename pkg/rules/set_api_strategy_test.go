package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestSetAPIStrategy(t *testing.T) {
	const id = "set-api-strategy"
	rolling := func(unavailable, surge *intstr.IntOrString) appsv1.DeploymentStrategy {
		return appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: unavailable, MaxSurge: surge},
		}
	}
	guide := rolling(intVal(0), intVal(1))
	// k8sDefaulted is what the API server stores for a Deployment that names no strategy.
	k8sDefaulted := rolling(pctStr("25%"), pctStr("25%"))

	tests := []struct {
		name    string
		in      appsv1.DeploymentStrategy
		policy  *policy.Policy
		changed bool
		want    appsv1.DeploymentStrategy
	}{
		{name: "compliant strategy is kept", in: guide, want: guide},
		{name: "no strategy at all gets the guide's", in: appsv1.DeploymentStrategy{}, changed: true, want: guide},
		{name: "RollingUpdate without parameters gets them",
			in: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}, changed: true, want: guide},
		{name: "API-server defaults 25%/25% count as unset", in: k8sDefaulted, changed: true, want: guide},
		{name: "API-server defaults are kept when the policy says they are choices",
			in: k8sDefaulted, policy: pol(k8sDefaultsAsUnset(false)), want: k8sDefaulted},
		{name: "unset halves are still filled when defaults are choices",
			in: rolling(nil, nil), policy: pol(k8sDefaultsAsUnset(false)), changed: true, want: guide},
		{name: "Recreate is the user's choice",
			in: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}, want: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}},
		{name: "explicit values are kept", in: rolling(intVal(1), intVal(2)), want: rolling(intVal(1), intVal(2))},
		{name: "explicit percentages other than 25% are kept", in: rolling(pctStr("10%"), pctStr("50%")), want: rolling(pctStr("10%"), pctStr("50%"))},
		{name: "explicit maxUnavailable kept, defaulted maxSurge replaced",
			in: rolling(intVal(1), pctStr("25%")), changed: true, want: rolling(intVal(1), intVal(1))},
		{name: "explicit maxSurge kept, defaulted maxUnavailable replaced",
			in: rolling(pctStr("25%"), intVal(3)), changed: true, want: rolling(intVal(0), intVal(3))},
		{name: "maxUnavailable 0 is not filled next to the user's maxSurge 0",
			in: rolling(nil, intVal(0)), want: rolling(nil, intVal(0))},
		{name: "defaulted maxUnavailable is not replaced by 0 next to the user's maxSurge 0%",
			in: rolling(pctStr("25%"), pctStr("0%")), want: rolling(pctStr("25%"), pctStr("0%"))},
		{name: "only the missing half is filled",
			in: rolling(intVal(0), nil), changed: true, want: guide},
		{name: "policy figures are used",
			in: appsv1.DeploymentStrategy{},
			policy: pol(func(p *policy.Policy) {
				p.API.RollingUpdate = policy.RollingUpdate{MaxUnavailable: intstr.FromInt32(1), MaxSurge: intstr.FromString("50%")}
			}),
			changed: true, want: rolling(intVal(1), pctStr("50%"))},
		{name: "missing type with explicit parameters becomes RollingUpdate",
			in:      appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: intVal(1), MaxSurge: intVal(2)}},
			changed: true, want: rolling(intVal(1), intVal(2))},
		{name: "policy maxSurge 0 is not filled next to the user's maxUnavailable 0",
			in: rolling(intVal(0), nil),
			policy: pol(func(p *policy.Policy) {
				p.API.RollingUpdate = policy.RollingUpdate{MaxUnavailable: intstr.FromInt32(1), MaxSurge: intstr.FromInt32(0)}
			}),
			changed: false, want: rolling(intVal(0), nil)},
		{name: "policy maxSurge 0 is filled when the policy's maxUnavailable goes with it",
			in: appsv1.DeploymentStrategy{},
			policy: pol(func(p *policy.Policy) {
				p.API.RollingUpdate = policy.RollingUpdate{MaxUnavailable: intstr.FromInt32(1), MaxSurge: intstr.FromInt32(0)}
			}),
			changed: true, want: rolling(intVal(1), intVal(0))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			d := apiDeployment(apiStrategy(*tc.in.DeepCopy()))
			assert.Equal(t, tc.changed, runDefault(t, id, d, p))
			assert.Equal(t, tc.want, d.Spec.Strategy)
			assertDefaultIdempotent(t, id, d, p)
		})
	}
}

func TestSetAPIStrategyOnlyForDeployments(t *testing.T) {
	r := defaultRule(t, "set-api-strategy")
	assert.False(t, r.AppliesTo(wl(t, apiStatefulSet())))
	assert.False(t, r.AppliesTo(wl(t, controllerDeployment())))
	assert.True(t, r.AppliesTo(wl(t, apiDeployment())))
}

// A policy value decoded over a default of the other type may carry a stale half;
// it must still count as equal to the object's value.
func TestSetAPIStrategyComparesValuesNotStructs(t *testing.T) {
	stale := intstr.IntOrString{Type: intstr.String, IntVal: 1, StrVal: "25%"}
	p := pol(k8sDefaultsAsUnset(true), func(p *policy.Policy) {
		p.API.RollingUpdate = policy.RollingUpdate{MaxUnavailable: stale, MaxSurge: stale}
	})
	d := apiDeployment(apiStrategy(appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: pctStr("25%"), MaxSurge: pctStr("25%")},
	}))
	assertDefaultNoop(t, "set-api-strategy", d, p)
}
