package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionReason denies an exemption that does not say why (exempt.ValidateReason).
func checkExemptionReason(w *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	return exempt.ValidateReason(exempt.Read(w.Meta.Annotations))
}
