package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionUntil denies an expiry that cannot be read: the exemption would
// otherwise last forever without anyone meaning it to.
func checkExemptionUntil(w *workload.Workload, _ *policy.Policy) field.ErrorList {
	e := exempt.Read(w.Meta.Annotations)
	if !e.Requested() || e.UntilText == "" || e.Until != nil {
		return nil
	}
	return field.ErrorList{field.Invalid(exempt.Path(exempt.AnnotationUntil), e.UntilText,
		"is not an RFC 3339 time; fix: write it like 2026-12-31T00:00:00Z")}
}
