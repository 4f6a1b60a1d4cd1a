package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestCheckAPIMaxUnavailable(t *testing.T) {
	const id = "api-max-unavailable"
	const path = "spec.strategy.rollingUpdate.maxUnavailable"
	tests := []struct {
		name     string
		replicas *int32
		mu       *intstr.IntOrString
		recreate bool
		want     []wantErr
	}{
		{name: "0 of 3", replicas: i32(3), mu: intVal(0)},
		{name: "1 of 3", replicas: i32(3), mu: intVal(1)},
		{name: "2 of 3", replicas: i32(3), mu: intVal(2)},
		{name: "3 of 3", replicas: i32(3), mu: intVal(3),
			want: []wantErr{invalid(path, "3", "stop all 3 replicas", "set it below 3")}},
		{name: "5 of 3", replicas: i32(3), mu: intVal(5), want: []wantErr{invalid(path, "5", "all 3 replicas")}},
		{name: "25% of 3 rounds down to 0", replicas: i32(3), mu: pctStr("25%")},
		{name: "50% of 2 rounds to 1", replicas: i32(2), mu: pctStr("50%")},
		{name: "99% of 2 rounds down to 1", replicas: i32(2), mu: pctStr("99%")},
		{name: "67% of 3 rounds down to 2", replicas: i32(3), mu: pctStr("67%")},
		{name: "100% of 3", replicas: i32(3), mu: pctStr("100%"),
			want: []wantErr{invalid(path, "100%", "stop all 3 replicas")}},
		{name: "100% of 2", replicas: i32(2), mu: pctStr("100%"), want: []wantErr{invalid(path, "100%", "all 2 replicas")}},
		{name: "1 of 1", replicas: i32(1), mu: intVal(1), want: []wantErr{invalid(path, "1", "all 1 replicas")}},
		{name: "1 of unset replicas (1)", replicas: nil, mu: intVal(1), want: []wantErr{invalid(path, "1", "all 1 replicas")}},
		{name: "25% of 1 rounds down to 0", replicas: i32(1), mu: pctStr("25%")},
		{name: "any value with 0 replicas", replicas: i32(0), mu: intVal(1)},
		{name: "not a number", replicas: i32(3), mu: pctStr("lots"),
			want: []wantErr{invalid(path, "lots", "whole number or a percentage", "set it to 0")}},
		{name: "a number in a string is not a percentage", replicas: i32(3), mu: pctStr("3"),
			want: []wantErr{invalid(path, "3", "whole number or a percentage")}},
		{name: "unset maxUnavailable", replicas: i32(3), mu: nil},
		{name: "Recreate is not judged here", replicas: i32(3), mu: intVal(3), recreate: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := apiDeployment(apiReplicas(tc.replicas), func(d *appsv1.Deployment) {
				d.Spec.Strategy.RollingUpdate.MaxUnavailable = tc.mu
				if tc.recreate {
					d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
				}
			})
			assertErrs(t, id, runCheck(t, id, d, pol()), tc.want...)
		})
	}
	t.Run("no rollingUpdate block", func(t *testing.T) {
		d := apiDeployment(apiStrategy(appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}))
		assertNoErrs(t, runCheck(t, id, d, pol()))
	})
	t.Run("not for StatefulSets", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, apiStatefulSet())))
	})
}
