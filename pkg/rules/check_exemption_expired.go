package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionExpired warns that an exemption has run out and its rules apply again.
func checkExemptionExpired(w *workload.Workload, _ *policy.Policy) field.ErrorList {
	e := exempt.Read(w.Meta.Annotations)
	if !e.Valid() || !e.Expired(exempt.Now()) {
		return nil
	}
	return field.ErrorList{field.Invalid(exempt.Path(exempt.AnnotationUntil), e.UntilText,
		"exemption expired; rules apply again")}
}
