package rules

import (
	"context"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// TestCheckAPIALBHealthCheckPath: an ALB told to check the api on a path none
// of its probes use MUST be warned of; the probe paths, an unset path (the
// default fills it) and other load balancers pass.
func TestCheckAPIALBHealthCheckPath(t *testing.T) {
	const id = "api-alb-healthcheck-path"
	api := wl(t, apiIn())
	withPath := func(class, path string) *networkingv1.Ingress {
		return apiIngress(class, func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{AnnotationALBHealthCheckPath: path}
		})
	}
	tests := []struct {
		name string
		obj  runtime.Object
		p    *policy.Policy
		want []wantErr
	}{
		{name: "the guide's /health", obj: withPath("alb", "/health")},
		{name: "the readiness path", obj: withPath("alb", "/ready")},
		{name: "unset", obj: apiIngress("alb")},
		{name: "the ALB's own default", obj: withPath("alb", "/"),
			want: []wantErr{invalid("metadata.annotations", "/", "healthcheck-path", "/health or /ready")}},
		{name: "a typo", obj: withPath("public", "/healthz"), want: []wantErr{invalid("metadata.annotations", "/healthz")}},
		{name: "the policy's paths", obj: withPath("alb", "/healthz"),
			p: pol(func(p *policy.Policy) { p.API.Probes.Liveness.Path, p.API.Probes.Startup.Path = "/healthz", "/healthz" })},
		{name: "an NGINX Ingress is not the ALB's", obj: withPath("nginx", "/")},
		{name: "not an Ingress", obj: apiService()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p == nil {
				p = pol()
			}
			s := Situation{Ctx: context.Background(), View: apiCluster(t)}
			assertErrs(t, id, relatedRule(t, id).Judge(tc.obj, api, p, s), tc.want...)
		})
	}
}
