package rules

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// Load balancers an Ingress may be served by, as far as the rules tell them apart.
const (
	LoadBalancerALB   = "alb"
	LoadBalancerNGINX = "nginx"
)

// Annotations the AWS Load Balancer Controller reads for a target group's
// health check.
const (
	AnnotationALBHealthCheckPath     = "alb.ingress.kubernetes.io/healthcheck-path"
	AnnotationALBHealthCheckInterval = "alb.ingress.kubernetes.io/healthcheck-interval-seconds"
)

const (
	// legacyClassAnnotation names an Ingress's class the way Ingresses did
	// before spec.ingressClassName; the API server refuses both at once.
	legacyClassAnnotation = "kubernetes.io/ingress.class"
	// IngressClass spec.controller values of the two load balancers.
	albController   = "ingress.k8s.aws/alb"
	nginxController = "k8s.io/ingress-nginx"
)

func asService(obj runtime.Object) (*corev1.Service, bool) {
	svc, ok := obj.(*corev1.Service)
	return svc, ok && svc != nil
}

func asIngress(obj runtime.Object) (*networkingv1.Ingress, bool) {
	ing, ok := obj.(*networkingv1.Ingress)
	return ing, ok && ing != nil
}

// ServicePodSelector is the selector of the pods a Service sends traffic to;
// ok is false when it selects none: an ExternalName Service is a DNS alias, and
// one without a selector has hand-made endpoints. (An empty selector would
// otherwise match every pod.)
func ServicePodSelector(svc *corev1.Service) (labels.Selector, bool) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
		return nil, false
	}
	return labels.SelectorFromSet(svc.Spec.Selector), true
}

// ServiceTargets lists the Laminar workloads in namespace whose pods svc selects.
func ServiceTargets(ctx context.Context, view View, namespace string, svc *corev1.Service) []*workload.Workload {
	sel, ok := ServicePodSelector(svc)
	if !ok || view == nil {
		return nil
	}
	return view.WorkloadsSelected(ctx, namespace, sel)
}

// IngressBackends lists the names of the Services an Ingress routes to, once
// each, in the order written. Resource backends route to no Service.
func IngressBackends(ing *networkingv1.Ingress) []string {
	var out []string
	add := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil && b.Service.Name != "" && !slices.Contains(out, b.Service.Name) {
			out = append(out, b.Service.Name)
		}
	}
	add(ing.Spec.DefaultBackend)
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			add(&r.HTTP.Paths[i].Backend)
		}
	}
	return out
}

// IngressTargets lists the Laminar workloads an Ingress in namespace routes to
// through its backend Services, once each. only is set when every backend is
// a known Service that selects Laminar pods: an annotation on the Ingress
// applies to all its backends, so a default meant for the api must not land on
// an Ingress that also fronts something else (or a Service not seen yet).
func IngressTargets(ctx context.Context, view View, namespace string, ing *networkingv1.Ingress) (targets []*workload.Workload, only bool) {
	if view == nil {
		return nil, false
	}
	backends := IngressBackends(ing)
	only = len(backends) > 0
	for _, name := range backends {
		svc, ok := view.Service(ctx, namespace, name)
		if !ok {
			only = false
			continue
		}
		found := ServiceTargets(ctx, view, namespace, svc)
		if len(found) == 0 {
			only = false
		}
		for _, w := range found {
			if !slices.ContainsFunc(targets, func(t *workload.Workload) bool { return t.Kind == w.Kind && t.Meta.Name == w.Meta.Name }) {
				targets = append(targets, w)
			}
		}
	}
	return targets, only
}

// IngressLoadBalancer tells which load balancer serves ing: LoadBalancerALB,
// LoadBalancerNGINX, or "" for any other or none known. A class named in
// spec.ingressClassName is the IngressClass of that name, whose controller
// decides; when the class is not known, its name is taken at its word, as
// for the legacy annotation, whose value the controllers read as it is.
// (An Ingress that names no class gets the cluster's default class from the
// API server on CREATE, before any webhook sees it.)
func IngressLoadBalancer(ctx context.Context, view View, ing *networkingv1.Ingress) string {
	name := ing.Annotations[legacyClassAnnotation]
	if ing.Spec.IngressClassName != nil {
		name = *ing.Spec.IngressClassName
		if view != nil {
			if class, ok := view.IngressClass(ctx, name); ok {
				switch class.Spec.Controller {
				case albController:
					return LoadBalancerALB
				case nginxController:
					return LoadBalancerNGINX
				}
				return ""
			}
		}
	}
	switch name {
	case LoadBalancerALB:
		return LoadBalancerALB
	case LoadBalancerNGINX:
		return LoadBalancerNGINX
	}
	return ""
}
