package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionExpired warns that an exemption has run out at the time the
// request is judged (exempt.ValidateNotExpired).
func checkExemptionExpired(w *workload.Workload, _ *policy.Policy, s Situation) field.ErrorList {
	return exempt.ValidateNotExpired(exempt.Read(w.Meta.Annotations), s.Now)
}
