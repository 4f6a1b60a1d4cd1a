package rules

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIPreStopWithinGrace denies a preStop delay as long as the grace period: the
// kubelet would kill the container before it drained a single request.
func checkAPIPreStopWithinGrace(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.API.ContainerName)
	if c == nil || c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return nil
	}
	delay, ok := preStopDelay(c.Lifecycle.PreStop)
	if !ok {
		return nil
	}
	grace := int64(kubernetesDefaultGracePeriod)
	if g := w.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if delay < grace {
		return nil
	}
	return field.ErrorList{field.Invalid(workload.PodSpecPath.Child("terminationGracePeriodSeconds"), grace,
		fmt.Sprintf("must exceed the preStop delay of %ds at %s, or no request is drained; fix: raise it above %d (the guide pairs a 10s delay with 60s), or shorten the delay",
			delay, cPath.Child("lifecycle", "preStop"), delay))}
}

// preStopDelay reads the seconds a preStop hook sleeps: the native sleep action, or
// a shell command whose last word is "sleep N".
func preStopDelay(h *corev1.LifecycleHandler) (int64, bool) {
	if h.Sleep != nil {
		return h.Sleep.Seconds, true
	}
	if h.Exec == nil || len(h.Exec.Command) == 0 {
		return 0, false
	}
	words := strings.Fields(strings.Join(h.Exec.Command, " "))
	for i := len(words) - 2; i >= 0; i-- {
		if words[i] == "sleep" || strings.HasSuffix(words[i], "/sleep") {
			n, err := strconv.ParseInt(strings.Trim(words[i+1], `"';`), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
