package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkExemptionPermission denies granting an exemption without the permission
// (exempt.ValidateGranted), unless the policy makes exemptions self-service.
// Only a write that adds or changes the exemption asks; later edits do not.
func checkExemptionPermission(w *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	if p.Exemptions.SelfService || s.Authorizer == nil || !exempt.Granting(w.Meta.Annotations, oldAnnotations(s)) {
		return nil
	}
	allowed, err := s.Authorizer.Allowed(s.Ctx, exempt.PermissionVerb, exempt.PermissionResource, w.Meta.Namespace)
	return exempt.ValidateGranted(exempt.Read(w.Meta.Annotations), s.Authorizer.User(), w.Meta.Namespace, allowed, err)
}

// oldAnnotations are the stored object's annotations; nil on CREATE.
func oldAnnotations(s Situation) map[string]string {
	if s.Old == nil {
		return nil
	}
	return s.Old.Meta.Annotations
}
