package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIRequests reserves the guide's CPU and memory for the API container so the
// scheduler does not pack replicas onto a node that cannot run them. A resource
// with a limit but no request is left alone: the API server copies the limit into
// the request, and a filled request could exceed the limit.
func setAPIRequests(w *workload.Workload, p *policy.Policy, _ Situation) bool {
	c, _ := w.MainContainer(p.API.ContainerName)
	if c == nil {
		return false
	}
	changed := false
	for name, q := range map[corev1.ResourceName]resource.Quantity{
		corev1.ResourceCPU:    p.API.Requests.CPU,
		corev1.ResourceMemory: p.API.Requests.Memory,
	} {
		if _, ok := c.Resources.Requests[name]; ok {
			continue
		}
		if _, ok := c.Resources.Limits[name]; ok {
			continue
		}
		if c.Resources.Requests == nil {
			c.Resources.Requests = corev1.ResourceList{}
		}
		c.Resources.Requests[name] = q.DeepCopy()
		changed = true
	}
	return changed
}
