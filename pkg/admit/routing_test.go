package admit_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

var (
	serviceKind = metav1.GroupVersionKind{Version: "v1", Kind: "Service"}
	ingressKind = metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
)

func apiService(mod func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Namespace: "laminar"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "laminar-api"}, Type: corev1.ServiceTypeClusterIP,
			SessionAffinity: corev1.ServiceAffinityNone, Ports: []corev1.ServicePort{{Port: 8000}}}}
	if mod != nil {
		mod(svc)
	}
	return svc
}

func ingress(class, backend string, annotations map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-api", Namespace: "laminar", Annotations: annotations},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Number: 8000}}}}}
}

// routingCluster is the fake cluster with the api's Service, a web Service
// and the ALB's IngressClass.
func routingCluster(t testing.TB) *fakeCluster {
	c := newFakeCluster(t)
	c.services = []corev1.Service{*apiService(nil), *apiService(func(s *corev1.Service) {
		s.Name, s.Spec.Selector = "web", map[string]string{"app": "web"}
	})}
	c.classes = []networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "public"},
		Spec: networkingv1.IngressClassSpec{Controller: "ingress.k8s.aws/alb"}}}
	return c
}

// TestServices: a Service selecting api pods is judged against the api; a
// Service of other pods, an ExternalName and a selector-less one are not.
func TestServices(t *testing.T) {
	v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: routingCluster(t)})
	ctx := context.Background()

	r := v.Handle(ctx, relatedRequest(t, serviceKind, apiService(nil)))
	assert.True(t, r.Allowed)
	assert.Empty(t, r.Warnings)
	assert.Equal(t, "api", r.AuditAnnotations[admit.AuditRole])

	r = v.Handle(ctx, relatedRequest(t, serviceKind, apiService(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP })))
	assert.False(t, r.Allowed)
	require.NotNil(t, r.Result.Details)
	assert.Equal(t, "Service", r.Result.Details.Kind)
	assert.Equal(t, "laminar-api", r.Result.Details.Name)
	require.Len(t, r.Result.Details.Causes, 1)
	assert.Equal(t, "spec.sessionAffinity", r.Result.Details.Causes[0].Field)
	assert.Contains(t, r.Result.Details.Causes[0].Message, "[api-service-session-affinity]")

	r = v.Handle(ctx, relatedRequest(t, serviceKind, apiService(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })))
	assert.True(t, r.Allowed)
	require.Len(t, r.Warnings, 1)
	assert.Contains(t, r.Warnings[0], "spec.type: [api-service-type] ")
	assert.Equal(t, "api-service-type", r.AuditAnnotations[admit.AuditWarned])

	for name, mod := range map[string]func(*corev1.Service){
		"other pods":  func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web"} },
		"no selector": func(s *corev1.Service) { s.Spec.Selector = nil },
		"ExternalName": func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "api.example.com"
		},
	} {
		svc := apiService(mod)
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		r = v.Handle(ctx, relatedRequest(t, serviceKind, svc))
		assert.True(t, r.Allowed, name)
		assert.Empty(t, r.AuditAnnotations, "%s is not judged", name)
	}

	// Warn mode audits the denial, as for any other object.
	c := routingCluster(t)
	warn := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: c,
		Namespaces: fakeNamespaces{"laminar": {policy.LabelMode: policy.ModeWarn}}})
	r = warn.Handle(ctx, relatedRequest(t, serviceKind, apiService(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP })))
	assert.True(t, r.Allowed)
	assert.Equal(t, "api-service-session-affinity", r.AuditAnnotations[admit.AuditAudited])
}

// TestIngressMutation: an ALB Ingress in front of the api gets the guide's
// health check, its own choices stay, the patched object asks for nothing
// more, and Ingresses of other load balancers or backends are not patched.
func TestIngressMutation(t *testing.T) {
	m := admit.NewRelatedMutator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: routingCluster(t)})
	ctx := context.Background()

	req := relatedRequest(t, ingressKind, ingress("alb", "laminar-api", nil))
	r := m.Handle(ctx, req)
	require.True(t, r.Allowed)
	require.NotEmpty(t, r.Patch, "%v", r.Result)
	assert.Equal(t, "set-api-alb-healthcheck", r.AuditAnnotations[admit.AuditDefaults])
	patched := applyPatch(t, req.Object.Raw, r)
	var got networkingv1.Ingress
	require.NoError(t, json.Unmarshal(patched, &got))
	assert.Equal(t, map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": "/health",
		"alb.ingress.kubernetes.io/healthcheck-interval-seconds": "15"}, got.Annotations)

	again := req
	again.Object = runtime.RawExtension{Raw: patched}
	r = m.Handle(ctx, again)
	assert.True(t, r.Allowed)
	assert.Empty(t, r.Patch, "the second write is left as it is")

	own := map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": "/ready", "team": "streaming"}
	req = relatedRequest(t, ingressKind, ingress("public", "laminar-api", own))
	r = m.Handle(ctx, req)
	require.NotEmpty(t, r.Patch)
	require.NoError(t, json.Unmarshal(applyPatch(t, req.Object.Raw, r), &got))
	assert.Equal(t, "/ready", got.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "the user's path stays")
	assert.Equal(t, "15", got.Annotations["alb.ingress.kubernetes.io/healthcheck-interval-seconds"])
	assert.Equal(t, "streaming", got.Annotations["team"])

	for name, ing := range map[string]*networkingv1.Ingress{
		"NGINX":                     ingress("nginx", "laminar-api", nil),
		"somebody else's backend":   ingress("alb", "web", nil),
		"a Service not known (yet)": ingress("alb", "laminar-api-next", nil),
	} {
		r = m.Handle(ctx, relatedRequest(t, ingressKind, ing))
		assert.True(t, r.Allowed, name)
		assert.Empty(t, r.Patch, name)
	}

	// Services are not mutated: their defaults are the API server's.
	r = m.Handle(ctx, relatedRequest(t, serviceKind, apiService(nil)))
	assert.True(t, r.Allowed)
	assert.Empty(t, r.AuditAnnotations)

	// The namespace's mutate switch holds for Ingresses too.
	off := admit.NewRelatedMutator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: routingCluster(t),
		Namespaces: fakeNamespaces{"laminar": {policy.LabelMutate: policy.MutateOff}}})
	r = off.Handle(ctx, relatedRequest(t, ingressKind, ingress("alb", "laminar-api", nil)))
	assert.True(t, r.Allowed)
	assert.Empty(t, r.Patch)

	// Being deleted: finalizer removals pass unpatched.
	deleting := ingress("alb", "laminar-api", nil)
	now := metav1.Now()
	deleting.DeletionTimestamp = &now
	r = m.Handle(ctx, relatedRequest(t, ingressKind, deleting))
	assert.True(t, r.Allowed)
	assert.Empty(t, r.Patch)
}

// TestIngressValidation: an ALB Ingress of the api checking a path none of
// its probes use is warned of.
func TestIngressValidation(t *testing.T) {
	v := admit.NewRelatedValidator(admit.Config{Policy: admit.Static(policy.Default()), Cluster: routingCluster(t)})
	ctx := context.Background()
	r := v.Handle(ctx, relatedRequest(t, ingressKind, ingress("alb", "laminar-api", map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": "/"})))
	assert.True(t, r.Allowed)
	require.Len(t, r.Warnings, 1)
	assert.Equal(t, "metadata.annotations: [api-alb-healthcheck-path] healthcheck-path is no api probe path; fix: /health or /ready", r.Warnings[0])

	r = v.Handle(ctx, relatedRequest(t, ingressKind, ingress("alb", "laminar-api", map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": "/health"})))
	assert.True(t, r.Allowed)
	assert.Empty(t, r.Warnings)

	upd := relatedRequest(t, ingressKind, ingress("alb", "web", map[string]string{"alb.ingress.kubernetes.io/healthcheck-path": "/"}))
	upd.Operation = admissionv1.Update
	r = v.Handle(ctx, upd)
	assert.True(t, r.Allowed)
	assert.Empty(t, r.AuditAnnotations, "not in front of a Laminar workload")
}
