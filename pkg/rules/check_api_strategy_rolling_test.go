package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
)

func TestCheckAPIStrategyRolling(t *testing.T) {
	const id = "api-strategy-rolling"
	tests := []struct {
		name     string
		strategy appsv1.DeploymentStrategy
		want     []wantErr
	}{
		{name: "RollingUpdate 0/1", strategy: apiDeployment().Spec.Strategy},
		{name: "RollingUpdate without parameters", strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}},
		{name: "no type (the API server makes it RollingUpdate)", strategy: appsv1.DeploymentStrategy{}},
		{name: "Recreate", strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			want: []wantErr{invalid("spec.strategy.type", appsv1.RecreateDeploymentStrategyType, "outage", "RollingUpdate")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, runCheck(t, id, apiDeployment(apiStrategy(tc.strategy)), pol()), tc.want...)
		})
	}
	t.Run("not for StatefulSets", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, apiStatefulSet())))
	})
}
