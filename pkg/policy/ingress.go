package policy

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// IngressPolicy is what an Ingress in front of the api gets. Its figures are
// kept apart from the workload's so a cluster whose load balancer differs
// changes them without touching the probes they follow.
type IngressPolicy struct {
	ALB ALBHealthCheck `json:"alb"`
}

// ALBHealthCheck is the health check the AWS Load Balancer Controller is told
// to run on the api's targets. Its path is the api's liveness probe path
// (api.probes.liveness.path), so the two never disagree.
type ALBHealthCheck struct {
	// IntervalSeconds is alb.ingress.kubernetes.io/healthcheck-interval-seconds.
	IntervalSeconds int32 `json:"intervalSeconds"`
}

// The bounds an ALB target group accepts for its health-check interval.
const (
	ALBMinIntervalSeconds = 5
	ALBMaxIntervalSeconds = 300
)

// ValidateIngressPolicy checks what an Ingress in front of the api gets.
func ValidateIngressPolicy(i IngressPolicy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n := i.ALB.IntervalSeconds; n < ALBMinIntervalSeconds || n > ALBMaxIntervalSeconds {
		errs = append(errs, field.Invalid(fldPath.Child("alb", "intervalSeconds"), n,
			"must be between 5 and 300, what an ALB target group accepts"))
	}
	return errs
}
