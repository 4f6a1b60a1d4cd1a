package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIKindDeployment warns when the stateless API server runs as a StatefulSet:
// it loses surge rollouts and gains ordered, one-at-a-time updates it does not need.
func checkAPIKindDeployment(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath("kind"), w.Kind, "a StatefulSet gets no surge rollouts; fix: run the Laminar api as a Deployment")}
}
