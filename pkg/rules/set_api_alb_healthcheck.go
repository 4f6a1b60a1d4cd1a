package rules

import (
	"strconv"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// setAPIALBHealthCheck tells the AWS Load Balancer Controller how to
// check the api's targets. Left to itself it checks GET / and expects a 200;
// the api answers its health on the liveness path, so every target can fail
// the check, and an ALB whose targets all fail routes to all of them, dead
// pods included: the health check then takes no failed pod out. The path is
// the api's liveness probe path (policy api.probes.liveness.path), so the ALB
// and the kubelet agree on what healthy means; the interval is the guide's 15
// seconds (policy api.ingress.alb.intervalSeconds).
//
// Each annotation is filled only when absent, so an explicit choice stays and
// a second write finds nothing to add; annotations are a map, so a GitOps diff
// (client-side or server-side apply) sees the added keys as additive. Only an
// Ingress every backend of which is the api's is filled: its annotations hold
// for all its target groups, and /health may mean nothing to another service.
// (Health-check annotations on a backend Service win over the Ingress's, so a
// Service that sets its own keeps it.)
func setAPIALBHealthCheck(obj runtime.Object, _ *workload.Workload, p *policy.Policy, s Situation) bool {
	ing, ok := asIngress(obj)
	if !ok || IngressLoadBalancer(s.Ctx, s.View, ing) != LoadBalancerALB {
		return false
	}
	if _, only := IngressTargets(s.Ctx, s.View, ing.Namespace, ing); !only {
		return false
	}
	changed := false
	for key, value := range map[string]string{
		AnnotationALBHealthCheckPath:     p.API.Probes.Liveness.Path,
		AnnotationALBHealthCheckInterval: strconv.Itoa(int(p.API.Ingress.ALB.IntervalSeconds)),
	} {
		if _, set := ing.Annotations[key]; set {
			continue
		}
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		ing.Annotations[key] = value
		changed = true
	}
	return changed
}
