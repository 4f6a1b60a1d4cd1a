package rules

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckReplicasRecommended(t *testing.T) {
	const id = "replicas-recommended"
	const path = "spec.replicas"
	tests := []struct {
		name   string
		obj    runtime.Object
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "api with 3", obj: apiDeployment()},
		{name: "api with 5", obj: apiDeployment(apiReplicas(i32(5)))},
		{name: "api with 2", obj: apiDeployment(apiReplicas(i32(2))),
			want: []wantErr{invalid(path, int32(2), "2 is below the recommended 3")}},
		{name: "api with 1 is left to replicas-min", obj: apiDeployment(apiReplicas(i32(1)))},
		{name: "api with unset replicas is left to replicas-min", obj: apiDeployment(apiReplicas(nil))},
		{name: "controller with 3", obj: controllerStatefulSet()},
		{name: "a guide-conformant controller with 2 gets no warning", obj: controllerStatefulSet(ctlReplicas(i32(2)))},
		{name: "a controller below a recommendation of 3 the policy sets", obj: controllerStatefulSet(ctlReplicas(i32(2))),
			policy: pol(func(p *policy.Policy) { p.Controller.Replicas.Recommended = 3 }),
			want:   []wantErr{invalid(path, int32(2), "below the recommended 3")}},
		{name: "controller with 1 is left to replicas-min", obj: controllerStatefulSet(ctlReplicas(i32(1)))},
		{name: "policy recommendation 5", obj: controllerStatefulSet(ctlReplicas(i32(4))),
			policy: pol(func(p *policy.Policy) { p.Controller.Replicas.Recommended = 5 }),
			want:   []wantErr{invalid(path, int32(4), "4 is below the recommended 5")}},
		{name: "recommendation equal to the floor never warns", obj: apiDeployment(apiReplicas(i32(2))),
			policy: pol(func(p *policy.Policy) { p.API.Replicas.Recommended = 2 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			assertErrs(t, id, runCheck(t, id, tc.obj, p), tc.want...)
		})
	}
}
