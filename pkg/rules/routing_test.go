package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// Builders of the objects that route to the api: a Service selecting its pods
// and an Ingress in front of it, both in "laminar".

func apiService(mods ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Namespace: "laminar"},
		Spec: corev1.ServiceSpec{Selector: cloneLabels(apiLabels), Type: corev1.ServiceTypeClusterIP,
			SessionAffinity: corev1.ServiceAffinityNone},
	}
	for _, m := range mods {
		m(svc)
	}
	return svc
}

func service(name string, selector map[string]string) corev1.Service {
	return *apiService(func(s *corev1.Service) { s.Name, s.Spec.Selector = name, selector })
}

func backend(service string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: service, Port: networkingv1.ServiceBackendPort{Number: 8000}}}
}

func apiIngress(class string, mods ...func(*networkingv1.Ingress)) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Namespace: "laminar"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "laminar.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: backend("laminar-api")}},
			}}}}},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	for _, m := range mods {
		m(ing)
	}
	return ing
}

func ingressClass(name, controller string) networkingv1.IngressClass {
	return networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressClassSpec{Controller: controller}}
}

// apiCluster is a cluster holding the api Deployment, its Service, a web
// Service of somebody else's pods and the two load balancers' classes.
func apiCluster(t *testing.T) fakeView {
	return fakeView{
		workloads: []*workload.Workload{wl(t, apiIn())},
		services:  []corev1.Service{*apiService(), service("web", map[string]string{"app": "web"})},
		classes:   []networkingv1.IngressClass{ingressClass("alb", albController), ingressClass("nginx", nginxController), ingressClass("public", albController)},
	}
}

func TestServicePodSelector(t *testing.T) {
	_, ok := ServicePodSelector(apiService())
	assert.True(t, ok)
	_, ok = ServicePodSelector(apiService(func(s *corev1.Service) { s.Spec.Selector = nil }))
	assert.False(t, ok, "no selector: hand-made endpoints, and an empty selector must not match every pod")
	_, ok = ServicePodSelector(apiService(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName }))
	assert.False(t, ok, "ExternalName is a DNS alias")
}

func TestIngressBackends(t *testing.T) {
	ing := apiIngress("alb", func(i *networkingv1.Ingress) {
		b := backend("default")
		i.Spec.DefaultBackend = &b
		paths := &i.Spec.Rules[0].HTTP.Paths
		*paths = append(*paths, networkingv1.HTTPIngressPath{Path: "/again", Backend: backend("laminar-api")},
			networkingv1.HTTPIngressPath{Path: "/static", Backend: networkingv1.IngressBackend{
				Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "static"}}})
		i.Spec.Rules = append(i.Spec.Rules, networkingv1.IngressRule{Host: "no-http"})
	})
	assert.Equal(t, []string{"default", "laminar-api"}, IngressBackends(ing), "once each, resource backends and rules without http left out")
}

func TestIngressTargets(t *testing.T) {
	ctx := context.Background()
	view := apiCluster(t)
	targets, only := IngressTargets(ctx, view, "laminar", apiIngress("alb"))
	assert.Len(t, targets, 1)
	assert.True(t, only)

	mixed := apiIngress("alb", func(i *networkingv1.Ingress) { b := backend("web"); i.Spec.DefaultBackend = &b })
	targets, only = IngressTargets(ctx, view, "laminar", mixed)
	assert.Len(t, targets, 1, "the api is still among the backends")
	assert.False(t, only, "web is somebody else's")

	unknown := apiIngress("alb", func(i *networkingv1.Ingress) { b := backend("not-yet"); i.Spec.DefaultBackend = &b })
	_, only = IngressTargets(ctx, view, "laminar", unknown)
	assert.False(t, only, "a Service not seen yet may be anyone's")

	targets, _ = IngressTargets(ctx, view, "elsewhere", apiIngress("alb"))
	assert.Empty(t, targets, "Services are looked up in the Ingress's namespace")
	targets, only = IngressTargets(ctx, nil, "laminar", apiIngress("alb"))
	assert.Empty(t, targets)
	assert.False(t, only)
}

func TestIngressLoadBalancer(t *testing.T) {
	ctx := context.Background()
	view := apiCluster(t)
	legacy := func(class string) *networkingv1.Ingress {
		return apiIngress("", func(i *networkingv1.Ingress) { i.Annotations = map[string]string{legacyClassAnnotation: class} })
	}
	for name, tc := range map[string]struct {
		ing  *networkingv1.Ingress
		view View
		want string
	}{
		"class alb":   {ing: apiIngress("alb"), view: view, want: LoadBalancerALB},
		"class nginx": {ing: apiIngress("nginx"), view: view, want: LoadBalancerNGINX},
		"a class of any name whose controller is the ALB's": {ing: apiIngress("public"), view: view, want: LoadBalancerALB},
		"an unknown class named alb":                        {ing: apiIngress("alb"), view: fakeView{}, want: LoadBalancerALB},
		"no view":                                           {ing: apiIngress("nginx"), want: LoadBalancerNGINX},
		"another controller":                                {ing: apiIngress("traefik"), view: fakeView{classes: []networkingv1.IngressClass{ingressClass("traefik", "traefik.io/ingress-controller")}}},
		"a class called alb of another controller":          {ing: apiIngress("alb"), view: fakeView{classes: []networkingv1.IngressClass{ingressClass("alb", "example.com/lb")}}},
		"legacy annotation alb":                             {ing: legacy("alb"), view: view, want: LoadBalancerALB},
		"legacy annotation nginx":                           {ing: legacy("nginx"), view: view, want: LoadBalancerNGINX},
		"no class":                                          {ing: apiIngress(""), view: view},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, IngressLoadBalancer(ctx, tc.view, tc.ing))
		})
	}
}
