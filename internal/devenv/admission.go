package devenv

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// WaitForAdmission returns once the API server's admission calls demonstrably
// reach the webhook: a server-side dry-run create of a compliant laminar-api
// Deployment comes back with HA defaults filled in (mutation), and one with a
// single replica is denied with the webhook's [replicas-min] cause (validation).
// Nothing is stored. It polls until Options.ReadyTimeout.
func (e *Env) WaitForAdmission(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	mutated, denied := false, false
	var last error
	for {
		if !mutated {
			d := probeDeployment(3)
			err := e.Client.Create(ctx, d, client.DryRunAll)
			switch {
			case err != nil && ctx.Err() != nil:
				// the deadline; keep the last real answer for the report
			case err != nil:
				last = fmt.Errorf("mutation probe (a compliant Deployment must be admitted): %w", err)
			case d.Spec.Template.Spec.Containers[0].StartupProbe == nil:
				last = errors.New("mutation probe: admitted without HA defaults (mutating webhook not called yet)")
			default:
				mutated = true
			}
		}
		if mutated && !denied {
			err := e.Client.Create(ctx, probeDeployment(1), client.DryRunAll)
			if DeniedByRule(err, "replicas-min") {
				denied = true
			} else if ctx.Err() == nil {
				last = fmt.Errorf("validation probe: want a denial with [replicas-min], got: %v", err)
			}
		}
		if mutated && denied {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("admission requests do not reach the webhook: %w (last: %v)%s", ctx.Err(), last, e.logTail())
		case <-tick.C:
		}
	}
}

func probeDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "laminar-api"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "devenv-admission-probe", Namespace: ProbeNamespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "api", Image: "ghcr.io/laminar/laminar:devenv-probe",
				}}},
			},
		},
	}
}
