package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionReason denies an exemption that does not say why: an unexplained
// exemption is how HA quietly erodes, and nobody can later judge whether it still holds.
func checkExemptionReason(w *workload.Workload, _ *policy.Policy) field.ErrorList {
	e := exempt.Read(w.Meta.Annotations)
	if !e.Requested() || e.Reason != "" {
		return nil
	}
	return field.ErrorList{field.Required(exempt.Path(exempt.AnnotationReason),
		"an exemption must say why; fix: add annotation "+exempt.AnnotationReason+" (who, why, ticket)")}
}
