package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckReplicasMin(t *testing.T) {
	const id = "replicas-min"
	const path = "spec.replicas"
	minimum := func(n int32) *policy.Policy {
		return pol(func(p *policy.Policy) { p.API.Replicas.Min, p.Controller.Replicas.Min = n, n })
	}
	tests := []struct {
		name   string
		obj    runtime.Object
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "api with 3", obj: apiDeployment()},
		{name: "api with 2", obj: apiDeployment(apiReplicas(i32(2)))},
		{name: "api with 10", obj: apiDeployment(apiReplicas(i32(10)))},
		{name: "api with 1", obj: apiDeployment(apiReplicas(i32(1))),
			want: []wantErr{invalid(path, int32(1), "api needs at least 2 replicas", "set spec.replicas to 2")}},
		{name: "api with 0", obj: apiDeployment(apiReplicas(i32(0))),
			want: []wantErr{invalid(path, int32(0), "at least 2")}},
		{name: "api with unset replicas counts as 1", obj: apiDeployment(apiReplicas(nil)),
			want: []wantErr{invalid(path, int32(1), "at least 2")}},
		{name: "api StatefulSet with 1", obj: apiStatefulSet(func(s *appsv1.StatefulSet) { s.Spec.Replicas = i32(1) }),
			want: []wantErr{invalid(path, int32(1), "api needs at least 2")}},
		{name: "controller with 3", obj: controllerStatefulSet()},
		{name: "controller with 2", obj: controllerStatefulSet(ctlReplicas(i32(2)))},
		{name: "controller with 1", obj: controllerStatefulSet(ctlReplicas(i32(1))),
			want: []wantErr{invalid(path, int32(1), "controller needs at least 2 replicas")}},
		{name: "controller Deployment with 1", obj: controllerDeployment(apiReplicas(i32(1))),
			want: []wantErr{invalid(path, int32(1), "controller needs at least 2")}},
		{name: "policy min 3 denies 2", obj: apiDeployment(apiReplicas(i32(2))), policy: minimum(3),
			want: []wantErr{invalid(path, int32(2), "at least 3 replicas", "set spec.replicas to 3")}},
		{name: "policy min 3 passes 3", obj: controllerStatefulSet(), policy: minimum(3)},
		{name: "policy min 1 passes 1", obj: apiDeployment(apiReplicas(i32(1))), policy: pol(func(p *policy.Policy) {
			p.API.Replicas = policy.Replicas{Min: 1, Recommended: 1}
		})},
		{name: "the controller's floor is not the api's", obj: controllerStatefulSet(ctlReplicas(i32(2))),
			policy: pol(func(p *policy.Policy) { p.API.Replicas = policy.Replicas{Min: 5, Recommended: 5} })},
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
