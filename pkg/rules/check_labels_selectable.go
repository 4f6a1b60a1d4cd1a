package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkLabelsSelectable warns when only the pod template carries the Laminar label:
// the webhook configurations select objects by their own labels, so in a cluster
// such an object would never reach this webhook. It matters to the offline check.
func checkLabelsSelectable(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	if role, ok := workload.RoleFromLabels(w.Meta.Labels); ok && role == w.Role {
		return nil
	}
	return field.ErrorList{field.Required(field.NewPath("metadata", "labels"),
		"the cluster webhook skips it; fix: copy the pod template's Laminar labels here")}
}
