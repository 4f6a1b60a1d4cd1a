package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// TestSetAPIALBHealthCheck: an ALB Ingress whose every backend is the api
// MUST get the guide's health check where unset, never over a value the user
// wrote, and nothing on a second pass; Ingresses of other load balancers, or
// that also front other services, are left alone.
func TestSetAPIALBHealthCheck(t *testing.T) {
	r := ruleOf[*RelatedDefault](t, "set-api-alb-healthcheck")
	api := wl(t, apiIn())
	guide := map[string]string{AnnotationALBHealthCheckPath: "/health", AnnotationALBHealthCheckInterval: "15"}
	tests := []struct {
		name string
		ing  *networkingv1.Ingress
		p    *policy.Policy
		want map[string]string // the annotations after; nil: unchanged
	}{
		{name: "class alb", ing: apiIngress("alb"), want: guide},
		{name: "a class of the ALB's controller", ing: apiIngress("public"), want: guide},
		{name: "legacy annotation", ing: apiIngress("", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{legacyClassAnnotation: "alb"}
		}), want: map[string]string{legacyClassAnnotation: "alb", AnnotationALBHealthCheckPath: "/health", AnnotationALBHealthCheckInterval: "15"}},
		{name: "explicit values stay", ing: apiIngress("alb", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{AnnotationALBHealthCheckPath: "/ready", AnnotationALBHealthCheckInterval: "30"}
		})},
		{name: "an explicit path stays, the interval is filled", ing: apiIngress("alb", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{AnnotationALBHealthCheckPath: "/ready"}
		}), want: map[string]string{AnnotationALBHealthCheckPath: "/ready", AnnotationALBHealthCheckInterval: "15"}},
		{name: "an explicit empty value is a value", ing: apiIngress("alb", func(i *networkingv1.Ingress) {
			i.Annotations = map[string]string{AnnotationALBHealthCheckPath: "", AnnotationALBHealthCheckInterval: ""}
		})},
		{name: "the policy's figures", ing: apiIngress("alb"),
			p:    pol(func(p *policy.Policy) { p.API.Probes.Liveness.Path = "/livez"; p.API.Ingress.ALB.IntervalSeconds = 30 }),
			want: map[string]string{AnnotationALBHealthCheckPath: "/livez", AnnotationALBHealthCheckInterval: "30"}},
		{name: "NGINX", ing: apiIngress("nginx")},
		{name: "no class", ing: apiIngress("")},
		{name: "a backend of somebody else's", ing: apiIngress("alb", func(i *networkingv1.Ingress) {
			b := backend("web")
			i.Spec.DefaultBackend = &b
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if p == nil {
				p = pol()
			}
			s := Situation{Ctx: context.Background(), View: apiCluster(t)}
			before := tc.ing.DeepCopy()
			changed := r.Fill(tc.ing, api, p, s)
			if tc.want == nil {
				assert.False(t, changed)
				assert.Equal(t, before, tc.ing)
				return
			}
			require.True(t, changed)
			assert.Equal(t, tc.want, tc.ing.Annotations)
			assert.Equal(t, before.Spec, tc.ing.Spec, "only annotations are filled")
			assert.False(t, r.Fill(tc.ing, api, p, s), "a second pass adds nothing")
		})
	}
}
