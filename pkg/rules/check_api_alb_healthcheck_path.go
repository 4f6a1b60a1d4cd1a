package rules

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIALBHealthCheckPath warns when an ALB is told to check the
// api on a path that is none of the api's probe paths: if the api does not
// answer it with a 200, every target fails the check and the ALB routes to
// dead pods as to live ones. It only warns, since an api image may answer a
// health path the policy does not know.
func checkAPIALBHealthCheckPath(obj runtime.Object, _ *workload.Workload, p *policy.Policy, s Situation) field.ErrorList {
	ing, ok := asIngress(obj)
	if !ok || IngressLoadBalancer(s.Ctx, s.View, ing) != LoadBalancerALB {
		return nil
	}
	path, set := ing.Annotations[AnnotationALBHealthCheckPath]
	if !set {
		return nil
	}
	probes := p.API.Probes
	known := []string{probes.Liveness.Path, probes.Readiness.Path, probes.Startup.Path}
	if slices.Contains(known, path) {
		return nil
	}
	slices.Sort(known)
	known = slices.Compact(known)
	// At metadata.annotations, not at the key: the key's path alone would
	// take half of a warning's line.
	return field.ErrorList{field.Invalid(field.NewPath("metadata", "annotations"), path,
		fmt.Sprintf("healthcheck-path is no api probe path; fix: %s", strings.Join(known, " or ")))}
}
