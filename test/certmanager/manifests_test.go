package certmanager

import (
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/server"
)

// The Deployment follows the HA rules the webhook enforces on others.
func TestManifestDeploymentIsHA(t *testing.T) {
	r := renderManifests(t)
	d := one[*appsv1.Deployment](t, r, appName)
	assert.Equal(t, namespace, d.Namespace)
	require.NotNil(t, d.Spec.Replicas)
	assert.GreaterOrEqual(t, *d.Spec.Replicas, int32(2), "replicas")
	assert.Equal(t, appsv1.RollingUpdateDeploymentStrategyType, d.Spec.Strategy.Type)
	require.NotNil(t, d.Spec.Strategy.RollingUpdate)
	assert.Equal(t, intstr.FromInt32(0), *d.Spec.Strategy.RollingUpdate.MaxUnavailable, "maxUnavailable")
	assert.Equal(t, intstr.FromInt32(1), *d.Spec.Strategy.RollingUpdate.MaxSurge, "maxSurge")

	podLabels := d.Spec.Template.Labels
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	require.True(t, sel.Matches(labels.Set(podLabels)), "the selector matches the pods")
	selects := func(s *metav1.LabelSelector) bool {
		ls, err := metav1.LabelSelectorAsSelector(s)
		require.NoError(t, err)
		return ls.Matches(labels.Set(podLabels))
	}

	spec := d.Spec.Template.Spec
	require.NotNil(t, spec.Affinity)
	require.NotNil(t, spec.Affinity.PodAntiAffinity)
	pref := spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	require.Len(t, pref, 1, "hostname anti-affinity")
	assert.Equal(t, "kubernetes.io/hostname", pref[0].PodAffinityTerm.TopologyKey)
	assert.True(t, selects(pref[0].PodAffinityTerm.LabelSelector), "anti-affinity selects the webhook's own pods")
	require.Len(t, spec.TopologySpreadConstraints, 1, "zone spread")
	tsc := spec.TopologySpreadConstraints[0]
	assert.Equal(t, "topology.kubernetes.io/zone", tsc.TopologyKey)
	assert.Equal(t, int32(1), tsc.MaxSkew)
	assert.True(t, selects(tsc.LabelSelector), "zone spread counts the webhook's own pods")

	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"webhook": 9443, "health": 8081, "metrics": 8080}, ports)
	for _, want := range []string{"serve", "--port=9443", "--health-addr=:8081", "--metrics-addr=:8080", "--metrics-secure=true"} {
		assert.Contains(t, c.Args, want)
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		require.NotNil(t, p, name)
		require.NotNil(t, p.HTTPGet, name)
		assert.Equal(t, intstr.FromString("health"), p.HTTPGet.Port, "%s probe on the health port", name)
	}
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)

	// Shutdown: the preStop sleep, the server's --shutdown-delay, then at most its
	// --shutdown-timeout drain (which must outlast an in-flight review's
	// timeoutSeconds), must fit the grace period with room to spare.
	require.NotNil(t, c.Lifecycle)
	require.NotNil(t, c.Lifecycle.PreStop)
	require.NotNil(t, c.Lifecycle.PreStop.Sleep, "native sleep action (no shell in a distroless image)")
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	assert.GreaterOrEqual(t, preStop, 5*time.Second, "preStop gives endpoint removal time to propagate")
	require.NotNil(t, spec.TerminationGracePeriodSeconds)
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	var maxTimeout int32
	for _, w := range one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, r, appName).Webhooks {
		maxTimeout = max(maxTimeout, *w.TimeoutSeconds)
	}
	for _, w := range one[*admissionregistrationv1.MutatingWebhookConfiguration](t, r, appName).Webhooks {
		maxTimeout = max(maxTimeout, *w.TimeoutSeconds)
	}
	flagDuration := func(name string) time.Duration {
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
				d, err := time.ParseDuration(v)
				require.NoError(t, err, "--%s", name)
				return d
			}
		}
		t.Fatalf("the webhook container sets no --%s", name)
		return 0
	}
	delay, drain := flagDuration("shutdown-delay"), flagDuration("shutdown-timeout")
	assert.Positive(t, delay, "--shutdown-delay lets API servers drop pooled connections before the listener closes")
	assert.GreaterOrEqual(t, drain, time.Duration(maxTimeout)*time.Second, "the drain outlasts an in-flight review")
	// The listener's own limits (pkg/server/limits.go) fit the same figures:
	// no review is cut while its API server still waits, and none outlasts the drain.
	assert.GreaterOrEqual(t, server.ReadTimeout, time.Duration(maxTimeout)*time.Second, "ReadTimeout")
	assert.GreaterOrEqual(t, server.WriteTimeout, time.Duration(maxTimeout)*time.Second, "WriteTimeout")
	assert.GreaterOrEqual(t, drain, server.WriteTimeout, "the drain outlasts the longest a request may take")
	assert.LessOrEqual(t, preStop+delay+drain+5*time.Second, grace,
		"terminationGracePeriodSeconds %s must cover preStop %s + delay %s + drain %s + margin", grace, preStop, delay, drain)

	// Resources: requests and limits; GOMEMLIMIT below the memory limit.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		assert.Contains(t, c.Resources.Requests, r, "requests.%s", r)
		assert.Contains(t, c.Resources.Limits, r, "limits.%s", r)
	}
	var memLimit string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			memLimit = e.Value
		}
	}
	require.NotEmpty(t, memLimit, "GOMEMLIMIT")
	soft := resource.MustParse(strings.TrimSuffix(memLimit, "B"))
	hard := c.Resources.Limits[corev1.ResourceMemory]
	ratio := float64(soft.Value()) / float64(hard.Value())
	assert.True(t, ratio > 0.75 && ratio < 0.95, "GOMEMLIMIT %s is %.0f%% of limits.memory %s; keep it near 90%%", memLimit, ratio*100, hard.String())

	// Security.
	psc := spec.SecurityContext
	require.NotNil(t, psc)
	assert.Equal(t, ptrTo(true), psc.RunAsNonRoot)
	assert.Equal(t, ptrTo[int64](65532), psc.RunAsUser, "the image's USER")
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, ptrTo(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, ptrTo(true), sc.ReadOnlyRootFilesystem)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Equal(t, appName, spec.ServiceAccountName)
	assert.Empty(t, spec.HostNetwork)

	// The PodDisruptionBudget and the Service select these pods.
	pdb := one[*policyv1.PodDisruptionBudget](t, r, appName)
	assert.True(t, selects(pdb.Spec.Selector), "the PodDisruptionBudget selects the pods")
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Less(t, pdb.Spec.MinAvailable.IntValue(), int(*d.Spec.Replicas), "the budget allows a drain")
	assert.GreaterOrEqual(t, pdb.Spec.MinAvailable.IntValue(), 1)
	svc := one[*corev1.Service](t, r, appName)
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(podLabels)), "the Service selects the pods")
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(443), svc.Spec.Ports[0].Port)
	assert.Equal(t, intstr.FromInt32(9443), svc.Spec.Ports[0].TargetPort)
}

// The NetworkPolicy admits the API server (from anywhere: it may be on the host
// network or outside the cluster) on 9443 and scrapers on 8080, nothing else.
func TestManifestNetworkPolicy(t *testing.T) {
	r := renderManifests(t)
	d := one[*appsv1.Deployment](t, r, appName)
	np := one[*networkingv1.NetworkPolicy](t, r, appName)
	ls, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	require.NoError(t, err)
	assert.True(t, ls.Matches(labels.Set(d.Spec.Template.Labels)), "selects the webhook's pods")
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes)
	require.Len(t, np.Spec.Ingress, 2)
	webhook := np.Spec.Ingress[0]
	assert.Empty(t, webhook.From, "9443 is open to any source: a selector cannot match a host-network API server")
	require.Len(t, webhook.Ports, 1)
	assert.Equal(t, intstr.FromInt32(9443), *webhook.Ports[0].Port)
	metrics := np.Spec.Ingress[1]
	require.Len(t, metrics.Ports, 1)
	assert.Equal(t, intstr.FromInt32(8080), *metrics.Ports[0].Port)
	require.Len(t, metrics.From, 1)
	assert.NotNil(t, metrics.From[0].NamespaceSelector, "metrics from labelled namespaces")
}

// RBAC: list and watch of exactly what the webhook caches.
func TestManifestRBAC(t *testing.T) {
	r := renderManifests(t)
	role := one[*rbacv1.ClusterRole](t, r, appName)
	assert.Equal(t, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces", "nodes", "services"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingressclasses"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"list", "watch"}},
		// Whether a requesting user may grant an exemption.
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}, role.Rules)
	granter := one[*rbacv1.ClusterRole](t, r, "laminar-ha-exemption-granter")
	assert.Equal(t, []rbacv1.PolicyRule{{APIGroups: []string{"ha.laminar.io"}, Resources: []string{"exemptions"}, Verbs: []string{"grant"}}}, granter.Rules)
	b := one[*rbacv1.ClusterRoleBinding](t, r, appName)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: appName}, b.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: appName, Namespace: namespace}}, b.Subjects)
	// One namespaced Role: the audit's Lease, by name, in the webhook's own namespace.
	roles := all[*rbacv1.Role](r)
	require.Len(t, roles, 1)
	assert.Equal(t, namespace, roles[0].Namespace)
	assert.Equal(t, []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"laminar-ha-webhook-audit"}, Verbs: []string{"get", "update"}},
	}, roles[0].Rules)
	assert.Len(t, all[*corev1.ServiceAccount](r), 1)
}

// The shipped policy loads.
func TestManifestPolicyLoads(t *testing.T) {
	r := renderManifests(t)
	cm := one[*corev1.ConfigMap](t, r, policyCMName)
	_, err := policy.Parse([]byte(cm.Data["policy.yaml"]))
	require.NoError(t, err)
}

// The cert-manager chain: self-signed -> long-lived CA -> CA issuer -> serving
// certificate for the Service's names, renewed well before expiry; both webhook
// configurations inject from the serving certificate (its CA, see
// certificates.yaml).
func TestManifestCertificates(t *testing.T) {
	r := renderManifests(t)
	ss := one[*cmapi.Issuer](t, r, "laminar-ha-webhook-selfsigned")
	assert.NotNil(t, ss.Spec.SelfSigned)
	caCert := one[*cmapi.Certificate](t, r, caCertName)
	assert.True(t, caCert.Spec.IsCA)
	assert.Equal(t, ss.Name, caCert.Spec.IssuerRef.Name)
	require.NotNil(t, caCert.Spec.Duration)
	assert.GreaterOrEqual(t, caCert.Spec.Duration.Duration, 5*365*24*time.Hour, "a long-lived CA")
	caIssuer := one[*cmapi.Issuer](t, r, caCertName)
	require.NotNil(t, caIssuer.Spec.CA)
	assert.Equal(t, caCert.Spec.SecretName, caIssuer.Spec.CA.SecretName)

	serving := one[*cmapi.Certificate](t, r, servingName)
	assert.False(t, serving.Spec.IsCA)
	assert.Equal(t, caIssuer.Name, serving.Spec.IssuerRef.Name)
	assert.Equal(t, "Issuer", serving.Spec.IssuerRef.Kind)
	assert.Equal(t, []string{serviceHost, serviceHost + ".cluster.local"}, serving.Spec.DNSNames)
	require.NotNil(t, serving.Spec.RenewBefore, "renewBefore")
	require.NotNil(t, serving.Spec.Duration)
	assert.Less(t, serving.Spec.RenewBefore.Duration, serving.Spec.Duration.Duration)
	assert.GreaterOrEqual(t, serving.Spec.RenewBefore.Duration, 7*24*time.Hour, "time to notice a failed renewal")

	d := one[*appsv1.Deployment](t, r, appName)
	var mounted string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			mounted = v.Secret.SecretName
		}
	}
	assert.Equal(t, serving.Spec.SecretName, mounted, "the pods mount the serving certificate's Secret")

	want := namespace + "/" + servingName
	m := one[*admissionregistrationv1.MutatingWebhookConfiguration](t, r, appName)
	v := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, r, appName)
	assert.Equal(t, want, m.Annotations[injectCAFrom])
	assert.Equal(t, want, v.Annotations[injectCAFrom])
	for _, w := range m.Webhooks {
		assert.Empty(t, w.ClientConfig.CABundle, w.Name)
	}
	for _, w := range v.Webhooks {
		assert.Empty(t, w.ClientConfig.CABundle, w.Name)
	}
}

// Every namespaced object lives in the webhook's namespace, which enforces
// Pod Security "restricted", and every object carries the app's name label.
func TestManifestNamespace(t *testing.T) {
	r := renderManifests(t)
	ns := one[*corev1.Namespace](t, r, namespace)
	assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"])
	for _, o := range r.Objects {
		if _, crd := o.(*apiextensionsv1.CustomResourceDefinition); crd {
			// The module's own file, byte for byte (pkg/audit's test): its labels are its authors'.
			assert.Empty(t, o.GetNamespace())
			continue
		}
		assert.Equal(t, appName, o.GetLabels()["app.kubernetes.io/name"], "%T %s", o, o.GetName())
		switch o.(type) {
		case *corev1.Namespace, *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding,
			*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration,
			*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			assert.Empty(t, o.GetNamespace(), "%T %s is cluster-scoped", o, o.GetName())
		default:
			assert.Equal(t, namespace, o.GetNamespace(), "%T %s", o, o.GetName())
		}
	}
}
