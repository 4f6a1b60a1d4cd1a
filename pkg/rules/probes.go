package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// The api's three probes share these: the defaults fill a missing probe, the
// checks report one.

// fillProbe sets the probe chosen by slot on the api's main container when the
// container has none; a probe the user wrote, of any kind, is kept.
func fillProbe(w *workload.Workload, p *policy.Policy, want policy.Probe, slot func(*corev1.Container) **corev1.Probe) bool {
	c, _ := w.MainContainer(p.API.ContainerName)
	if c == nil || *slot(c) != nil {
		return false
	}
	*slot(c) = httpProbe(want.Path, want.Port, want.InitialDelaySeconds, want.PeriodSeconds, want.FailureThreshold)
	return true
}

// requireProbe reports a missing probe on the api's main container.
func requireProbe(w *workload.Workload, p *policy.Policy, kind, jsonName string, want policy.Probe, get func(*corev1.Container) *corev1.Probe) field.ErrorList {
	c, cPath := w.MainContainer(p.API.ContainerName)
	if c == nil || get(c) != nil {
		return nil
	}
	return field.ErrorList{field.Required(cPath.Child(jsonName),
		fmt.Sprintf("the api needs a %s probe; fix: add httpGet %s on port %d", kind, want.Path, want.Port))}
}
