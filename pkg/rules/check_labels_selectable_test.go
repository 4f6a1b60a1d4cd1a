package rules

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestCheckLabelsSelectable(t *testing.T) {
	const id = "labels-selectable"
	const path = "metadata.labels"
	objectLabels := func(l map[string]string) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) { d.Labels = l }
	}
	tests := []struct {
		name string
		obj  runtime.Object
		want []wantErr
	}{
		{name: "api object carries app=laminar-api", obj: apiDeployment()},
		{name: "controller object carries app=laminar-controller", obj: controllerStatefulSet()},
		{name: "recommended labels on object and pods", obj: apiDeployment(apiPodLabels(apiRecommendedLabels))},
		{name: "object uses recommended labels, pods app=", obj: apiDeployment(objectLabels(apiRecommendedLabels))},
		{name: "object has no labels", obj: apiDeployment(objectLabels(nil)),
			want: []wantErr{required(path, "copy the pod template's Laminar labels here")}},
		{name: "object has unrelated labels", obj: controllerStatefulSet(func(s *appsv1.StatefulSet) { s.Labels = map[string]string{"team": "data"} }),
			want: []wantErr{required(path)}},
		{name: "object labelled as the other role", obj: apiDeployment(objectLabels(controllerLabels)),
			want: []wantErr{required(path)}},
		{name: "object carries only half of the recommended labels",
			obj:  apiDeployment(objectLabels(map[string]string{"app.kubernetes.io/name": "laminar"})),
			want: []wantErr{required(path)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assertErrs(t, id, runCheck(t, id, tc.obj, pol()), tc.want...)
		})
	}
}
