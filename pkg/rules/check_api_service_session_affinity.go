package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIServiceSessionAffinity denies a Service that pins each client to one
// api pod (sessionAffinity ClientIP). The api is stateless, so pinning buys
// nothing, and it costs what the guide's None avoids: every client pinned to a
// pod loses it at once when the pod goes (a rollout, a drain, a zone), and one
// busy address (a NAT gateway, a proxy) loads one pod while the others idle.
// None is what the API server fills in before admission, so there is nothing
// for a default to add: only an explicit ClientIP reaches this check.
func checkAPIServiceSessionAffinity(obj runtime.Object, target *workload.Workload, _ *policy.Policy, _ Situation) field.ErrorList {
	svc, ok := asService(obj)
	if !ok || svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "sessionAffinity"), string(svc.Spec.SessionAffinity),
		fmt.Sprintf("pins clients to one pod of %s %s; fix: set sessionAffinity: None",
			target.Kind, target.Meta.Name))}
}
