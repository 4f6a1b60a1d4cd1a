package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// requireProbe reports a missing probe on the api's main container.
func requireProbe(w *workload.Workload, p *policy.Policy, kind, jsonName string, want policy.Probe, get func(*corev1.Container) *corev1.Probe) field.ErrorList {
	c, cPath := w.MainContainer(p.API.ContainerName)
	if c == nil || get(c) != nil {
		return nil
	}
	return field.ErrorList{field.Required(cPath.Child(jsonName),
		fmt.Sprintf("the api needs a %s probe; fix: add httpGet %s on port %d", kind, want.Path, want.Port))}
}
