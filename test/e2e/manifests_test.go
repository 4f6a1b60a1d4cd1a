package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// The production manifests, rendered by kustomize, are what the issue asks for.
func TestManifestsRender(t *testing.T) {
	t.Parallel()
	out := mustKubectl(t, "kustomize", "deploy/manifests")
	// cert-manager's Issuers and Certificates are not built-in kinds; test/certmanager
	// checks them (and installs the whole kustomization with cert-manager running).
	var docs []string
	for _, doc := range strings.Split(out, "\n---\n") {
		if !strings.HasPrefix(strings.TrimSpace(doc), "apiVersion: cert-manager.io/") {
			docs = append(docs, doc)
		}
	}
	objs, err := devenv.DecodeObjects([]byte(strings.Join(docs, "\n---\n")))
	require.NoError(t, err)

	var svc *corev1.Service
	var mut *admissionregistrationv1.MutatingWebhookConfiguration
	var val *admissionregistrationv1.ValidatingWebhookConfiguration
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			svc = o
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			mut = o
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			val = o
		}
	}
	require.NotNil(t, svc, "Service")
	require.NotNil(t, mut, "MutatingWebhookConfiguration")
	require.NotNil(t, val, "ValidatingWebhookConfiguration")

	assert.Equal(t, "laminar-ha-system", svc.Namespace)
	assert.Equal(t, "laminar-ha-webhook", svc.Name)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "laminar-ha-webhook"}, svc.Spec.Selector)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(443), svc.Spec.Ports[0].Port)
	assert.Equal(t, intstr.FromInt32(9443), svc.Spec.Ports[0].TargetPort)

	// The workload entries select by the pod template, in the API server: the
	// conditions' meaning is proven by TestWorkloadsAreSelectedByTheirPodTemplate.
	conditionNames := func(w []admissionregistrationv1.MatchCondition) []string {
		var names []string
		for _, c := range w {
			names = append(names, c.Name)
		}
		return names
	}
	wantConditions := []string{"laminar-pod-template", "not-being-deleted"}
	nsSel := func(optOut string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "kube-node-lease", "laminar-ha-system"}},
			{Key: optOut, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"off"}},
		}}
	}
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
			Resources: []string{"deployments", "statefulsets"},
			Scope:     ptrTo(admissionregistrationv1.NamespacedScope),
		},
	}}
	svcRef := func(path string) *admissionregistrationv1.ServiceReference {
		return &admissionregistrationv1.ServiceReference{Namespace: "laminar-ha-system", Name: "laminar-ha-webhook", Path: &path, Port: ptrTo[int32](443)}
	}

	assert.Equal(t, "laminar-ha-webhook", mut.Name)
	require.Len(t, mut.Webhooks, 3)
	{
		// The switch back on of a namespace's enforcement is recorded, and must be.
		w := mut.Webhooks[1]
		assert.Equal(t, "stamp-namespace.ha.laminar.io", w.Name)
		assert.Equal(t, []string{"enforce-label-changed"}, conditionNames(w.MatchConditions), w.Name)
		assert.Equal(t, svcRef("/stamp-namespace"), w.ClientConfig.Service, w.Name)
		assert.Equal(t, admissionregistrationv1.Fail, *w.FailurePolicy, w.Name)
		require.Len(t, w.Rules, 1)
		assert.Equal(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Update}, w.Rules[0].Operations)
		assert.Equal(t, []string{"namespaces"}, w.Rules[0].Resources)
	}
	{
		w := mut.Webhooks[0]
		assert.Equal(t, "mutate.ha.laminar.io", w.Name)
		assert.Nil(t, w.ObjectSelector, "the workload's own labels do not decide: %s", w.Name)
		assert.Equal(t, wantConditions, conditionNames(w.MatchConditions), w.Name)
		assert.Equal(t, nsSel("ha.laminar.io/mutate"), w.NamespaceSelector, w.Name)
		assert.Equal(t, rules, w.Rules, w.Name)
		assert.Equal(t, svcRef("/mutate"), w.ClientConfig.Service, w.Name)
		assert.Empty(t, w.ClientConfig.CABundle, "caBundle is injected at install time")
		assert.Equal(t, admissionregistrationv1.Ignore, *w.FailurePolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.IfNeededReinvocationPolicy, *w.ReinvocationPolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.Equivalent, *w.MatchPolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *w.SideEffects, w.Name)
		assert.Equal(t, int32(5), *w.TimeoutSeconds, w.Name)
		assert.Equal(t, []string{"v1"}, w.AdmissionReviewVersions, w.Name)
	}

	{
		// Ingresses carry no Laminar label: the cache tells the api's.
		w := mut.Webhooks[2]
		assert.Equal(t, "mutate-related.ha.laminar.io", w.Name)
		assert.Nil(t, w.ObjectSelector, w.Name)
		assert.Equal(t, []string{"not-being-deleted"}, conditionNames(w.MatchConditions), w.Name)
		assert.Equal(t, nsSel("ha.laminar.io/mutate"), w.NamespaceSelector, w.Name)
		assert.Equal(t, []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"},
				Resources: []string{"ingresses"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}}, w.Rules, w.Name)
		assert.Equal(t, svcRef("/mutate-related"), w.ClientConfig.Service, w.Name)
		assert.Equal(t, admissionregistrationv1.Ignore, *w.FailurePolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *w.SideEffects, w.Name)
	}

	assert.Equal(t, "laminar-ha-webhook", val.Name)
	require.Len(t, val.Webhooks, 3)
	{
		w := val.Webhooks[0]
		assert.Equal(t, "validate.ha.laminar.io", w.Name)
		assert.Nil(t, w.ObjectSelector, "the workload's own labels do not decide: %s", w.Name)
		assert.Equal(t, wantConditions, conditionNames(w.MatchConditions), w.Name)
		assert.Equal(t, nsSel("ha.laminar.io/enforce"), w.NamespaceSelector, w.Name)
		assert.Equal(t, rules, w.Rules, w.Name)
		assert.Equal(t, svcRef("/validate"), w.ClientConfig.Service, w.Name)
		assert.Empty(t, w.ClientConfig.CABundle)
		assert.Equal(t, admissionregistrationv1.Fail, *w.FailurePolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.Equivalent, *w.MatchPolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *w.SideEffects, w.Name)
		assert.Equal(t, int32(5), *w.TimeoutSeconds, w.Name)
		assert.Equal(t, []string{"v1"}, w.AdmissionReviewVersions, w.Name)
	}

	// Scale requests, budgets, autoscalers, Services and Ingresses carry no Laminar label: no
	// objectSelector, and they fail open (they see every workload's).
	for i, want := range []struct {
		name, path string
		rules      []admissionregistrationv1.RuleWithOperations
	}{
		{"validate-scale.ha.laminar.io", "/validate-scale", []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
				Resources: []string{"deployments/scale", "statefulsets/scale"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}}},
		{"validate-related.ha.laminar.io", "/validate-related", []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"policy"}, APIVersions: []string{"v1"},
				Resources: []string{"poddisruptionbudgets"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}, {
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"autoscaling"}, APIVersions: []string{"v2"},
				Resources: []string{"horizontalpodautoscalers"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}, {
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"},
				Resources: []string{"services"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}, {
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"},
				Resources: []string{"ingresses"}, Scope: ptrTo(admissionregistrationv1.NamespacedScope)},
		}}},
	} {
		w := val.Webhooks[1+i]
		assert.Equal(t, want.name, w.Name)
		assert.Nil(t, w.ObjectSelector, w.Name)
		assert.Equal(t, nsSel("ha.laminar.io/enforce"), w.NamespaceSelector, w.Name)
		assert.Equal(t, want.rules, w.Rules, w.Name)
		assert.Equal(t, svcRef(want.path), w.ClientConfig.Service, w.Name)
		assert.Equal(t, admissionregistrationv1.Ignore, *w.FailurePolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.Equivalent, *w.MatchPolicy, w.Name)
		assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *w.SideEffects, w.Name)
		assert.Equal(t, int32(5), *w.TimeoutSeconds, w.Name)
	}
}

// The unmodified production manifests pass the API server's own validation
// (server-side dry run, under other names so the installed ones stay as they are).
func TestManifestsValidOnServer(t *testing.T) {
	t.Parallel()
	objs, err := devenv.LoadManifests(env.RepoRoot)
	require.NoError(t, err)
	for _, o := range objs {
		o.SetName(o.GetName() + "-dry-run")
		require.NoError(t, env.Client.Create(testContext(t), o, client.DryRunAll), "%T %s", o, o.GetName())
	}
}

func ptrTo[T any](v T) *T { return &v }
