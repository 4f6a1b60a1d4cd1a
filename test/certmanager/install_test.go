package certmanager

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	cmapiutil "github.com/cert-manager/cert-manager/pkg/api/util"
	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// install is what the steps of one phase of TestInstall share.
type install struct {
	// name is the phase's, which keeps each phase's local pod apart.
	name string
	pod  *localPod
	// ca is the CA certificate (laminar-ha-webhook-ca's Secret, tls.crt) after issuance.
	ca []byte
	// rendered is the file `helm template` wrote (phase HelmTemplate).
	rendered string
}

type step struct {
	name string
	run  func(t *testing.T, in *install)
}

// commonSteps are the checks every install path makes right after its
// install: its pod template under the namespace's enforced Pod Security level,
// issuance and injection.
var commonSteps = []step{
	{"PodTemplateRestricted", stepPodTemplateRestricted},
	{"CertificatesReady", stepCertificatesReady},
	{"CAInjected", stepCAInjected},
}

// TestInstall installs the webhook three ways into a cluster running
// cert-manager, one after the other in the same namespace, running
// docs/install.md's shell blocks on the way; the last step checks that none
// marked for testing was left out.
//
//   - Helm: `helm install`, `helm upgrade` and `helm uninstall` as the guide
//     writes them, with the issuance, injection and admission checks between;
//   - HelmTemplate: the chart's default rendering (`helm template`) applied with
//     kubectl, server-side dry run first, with the same checks;
//   - Kustomize: `kubectl apply -k deploy/manifests`, followed through
//     issuance, CA injection, admission over verified TLS, a serving certificate
//     renewal, a CA rotation and a pod's shutdown.
//
// The phases run in this order because each must start from a namespace with
// no install in it: the Helm phases remove what they installed, but the
// kustomization's uninstall deletes the Namespace, which would then wait
// forever for the namespace controller this suite does not run. The steps of a
// phase build on each other; the first failure stops the rest.
func TestInstall(t *testing.T) {
	phases := []struct {
		name  string
		steps []step
	}{
		{"Helm", slices.Concat([]step{
			{"HelmInstall", stepHelmInstall},
		}, commonSteps, []step{
			{"HelmUpgradeKeepsCABundles", stepHelmUpgrade},
			{"WebhookRunsAsPod", stepWebhookRunsAsPod},
			{"AdmissionOverVerifiedTLS", stepAdmissionOverVerifiedTLS},
			{"HelmUninstall", stepHelmUninstall},
		})},
		{"HelmTemplate", slices.Concat([]step{
			{"ServerDryRun", stepHelmTemplateDryRun},
			{"Apply", stepHelmTemplateApply},
		}, commonSteps, []step{
			{"WebhookRunsAsPod", stepWebhookRunsAsPod},
			{"AdmissionOverVerifiedTLS", stepAdmissionOverVerifiedTLS},
			{"Delete", stepHelmTemplateDelete},
		})},
		{"Kustomize", slices.Concat([]step{
			{"ServerDryRun", stepServerDryRun},
			{"Apply", stepApply},
		}, commonSteps, []step{
			{"ReapplyKeepsCABundles", stepReapplyKeepsCABundles},
			{"WebhookRunsAsPod", stepWebhookRunsAsPod},
			{"LeastPrivilege", stepLeastPrivilege},
			{"AdmissionOverVerifiedTLS", stepAdmissionOverVerifiedTLS},
			{"MetricsNeedAuthorization", stepMetricsNeedAuthorization},
			{"ServingRenewal", stepServingRenewal},
			{"CARotation", stepCARotation},
			{"GracefulShutdown", stepGracefulShutdown},
		})},
	}
	for _, p := range phases {
		start := time.Now()
		ok := t.Run(p.name, func(t *testing.T) { runSteps(t, &install{name: p.name}, p.steps) })
		t.Logf("%s: %s", p.name, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}
	t.Run("DocsBlocksAreTested", func(t *testing.T) { stepDocsBlocksAreTested(t, nil) })
}

// runSteps runs one phase's steps in order, stopping at the first failure, and
// stops the phase's webhook at the end whatever happened.
func runSteps(t *testing.T, in *install, steps []step) {
	t.Cleanup(func() {
		if in.pod != nil {
			if _, err := in.pod.Stop(); err != nil {
				t.Logf("stopping the webhook: %v", err)
			}
			if t.Failed() {
				t.Logf("webhook log (tail):\n%s", in.pod.Log())
			}
		}
	})
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, func(t *testing.T) { s.run(t, in) })
		t.Logf("%s: %s", s.name, time.Since(start).Round(time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}
}

func stepContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustKubectl(t *testing.T, ctx context.Context, args ...string) (string, string) {
	t.Helper()
	out, stderr, err := suite.kubectl(ctx, nil, args...)
	t.Logf("kubectl %s\n%s%s", strings.Join(args, " "), out, stderr)
	require.NoError(t, err, "kubectl %s: %s", strings.Join(args, " "), stderr)
	return out, stderr
}

// A server-side dry run of the whole kustomization (docs/install.md's
// preview) succeeds, with no warnings. A server-side dry run cannot put objects
// into a namespace that does not exist yet, so the preview creates the
// Namespace (namespace.yaml) first; everything else is dry-run only.
func stepServerDryRun(t *testing.T, _ *install) {
	ctx := stepContext(t)
	out, stderr := runDocBlock(t, ctx, "preview")
	assert.Empty(t, applyWarnings(stderr), "warnings")
	assert.Contains(t, out, "deployment.apps/laminar-ha-webhook created (server dry run)")
	assert.Contains(t, out, "certificate.cert-manager.io/laminar-ha-webhook-serving created (server dry run)")

	// Nothing but the namespace exists.
	err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, &appsv1.Deployment{})
	assert.True(t, apierrors.IsNotFound(err), "dry run stored the Deployment: %v", err)
}

// The install itself (docs/install.md's install: the CRD check, then one
// kubectl apply -k), then a second dry run against the installed objects.
func stepApply(t *testing.T, _ *install) {
	ctx := stepContext(t)
	out, stderr := runDocBlock(t, ctx, "install")
	assert.Empty(t, warningLines(stderr), "warnings")
	for _, want := range []string{
		"serviceaccount/laminar-ha-webhook created",
		"clusterrole.rbac.authorization.k8s.io/laminar-ha-webhook created",
		"deployment.apps/laminar-ha-webhook created",
		"issuer.cert-manager.io/laminar-ha-webhook-ca created",
		"validatingwebhookconfiguration.admissionregistration.k8s.io/laminar-ha-webhook created",
	} {
		assert.Contains(t, out, want)
	}
	_, stderr = mustKubectl(t, ctx, "apply", "-k", "deploy/manifests", "--dry-run=server")
	assert.Empty(t, warningLines(stderr), "warnings")
}

// warningRecorder collects the API server's Warning headers.
type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// The webhook's pod, as its Deployment would create it, is admitted by the
// namespace's enforced Pod Security level "restricted", without warnings; a pod
// that breaks the level is refused there (the level really is enforced).
func stepPodTemplateRestricted(t *testing.T, _ *install) {
	ctx := stepContext(t)
	ns := &corev1.Namespace{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: namespace}, ns))
	assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"])

	dep := &appsv1.Deployment{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, dep))
	w := &warningRecorder{}
	cfg := rest.CopyConfig(suite.Config)
	cfg.WarningHandlerWithContext = w
	c, err := ctrlclient.New(cfg, ctrlclient.Options{Scheme: suite.Scheme})
	require.NoError(t, err)

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: appName + "-template", Labels: dep.Spec.Template.Labels},
		Spec:       *dep.Spec.Template.Spec.DeepCopy(),
	}
	require.NoError(t, c.Create(ctx, pod, ctrlclient.DryRunAll), "the pod template in a restricted namespace")
	assert.Empty(t, w.take(), "warnings for the webhook's own pod")

	bad := pod.DeepCopy()
	bad.Name = appName + "-privileged"
	bad.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true)}
	err = c.Create(ctx, bad, ctrlclient.DryRunAll)
	require.Error(t, err, "a privileged pod must be refused in %s", namespace)
	assert.True(t, apierrors.IsForbidden(err), "want Forbidden, got %v", err)
	assert.Contains(t, err.Error(), `violates PodSecurity "restricted:`)
}

func ptrTo[T any](v T) *T { return &v }

// cert-manager issues the CA and the serving certificate; the serving
// certificate carries exactly the Service's names and is signed by the CA.
func stepCertificatesReady(t *testing.T, in *install) {
	ctx := stepContext(t)
	for _, name := range []string{"laminar-ha-webhook-selfsigned", caCertName} {
		require.NoError(t, eventually(ctx, 60*time.Second, "Issuer "+name+" Ready", func(ctx context.Context) (bool, string, error) {
			iss, err := suite.CM.CertmanagerV1().Issuers(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			return cmapiutil.IssuerHasCondition(iss, cmapi.IssuerCondition{Type: cmapi.IssuerConditionReady, Status: cmmeta.ConditionTrue}), fmt.Sprint(iss.Status.Conditions), nil
		}))
	}
	for _, name := range []string{caCertName, servingName} {
		require.NoError(t, waitCertificateReady(ctx, name, 0))
	}
	_, _ = runDocBlock(t, ctx, "wait-certificates")

	caSecret := getSecret(t, ctx, caCertName)
	caCerts := mustCerts(t, caSecret.Data["tls.crt"])
	require.Len(t, caCerts, 1)
	ca := caCerts[0]
	assert.True(t, ca.IsCA, "the CA certificate is a CA")
	assert.Equal(t, ca.Subject.String(), ca.Issuer.String(), "the CA is self-signed")
	assert.Greater(t, time.Until(ca.NotAfter), 9*365*24*time.Hour, "the CA is long-lived")
	in.ca = caSecret.Data["tls.crt"]

	serving := getSecret(t, ctx, servingName)
	leafs := mustCerts(t, serving.Data["tls.crt"])
	leaf := leafs[0]
	assert.False(t, leaf.IsCA, "the serving certificate is not a CA")
	assert.ElementsMatch(t, []string{serviceHost, serviceHost + ".cluster.local"}, leaf.DNSNames, "SANs")
	assert.Empty(t, leaf.IPAddresses)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	assert.Equal(t, in.ca, serving.Data["ca.crt"], "ca.crt of the serving Secret is the CA")
	verifyLeaf(t, leaf, in.ca)
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	assert.InDelta(t, (90 * 24 * time.Hour).Hours(), lifetime.Hours(), 1, "serving certificate lifetime")

	crt, err := suite.CM.CertmanagerV1().Certificates(namespace).Get(ctx, servingName, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotNil(t, crt.Status.RenewalTime, "renewal scheduled")
	assert.InDelta(t, (30 * 24 * time.Hour).Hours(), leaf.NotAfter.Sub(crt.Status.RenewalTime.Time).Hours(), 1, "renewBefore")
}

func verifyLeaf(t *testing.T, leaf *x509.Certificate, roots []byte) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(roots))
	for _, name := range []string{serviceHost, serviceHost + ".cluster.local"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		assert.NoError(t, err, name)
	}
}

func getSecret(t *testing.T, ctx context.Context, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: name}, s))
	return s
}

// waitCertificateReady waits until Certificate name is Ready at a revision
// above minRevision, with no issuance in progress.
func waitCertificateReady(ctx context.Context, name string, minRevision int) error {
	return eventually(ctx, 60*time.Second, "Certificate "+name+" Ready", func(ctx context.Context) (bool, string, error) {
		crt, err := suite.CM.CertmanagerV1().Certificates(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		if c := cmapiutil.GetCertificateCondition(crt, cmapi.CertificateConditionIssuing); c != nil && c.Status == cmmeta.ConditionFalse {
			return false, "", fmt.Errorf("issuance failed: %s: %s", c.Reason, c.Message)
		}
		ready := cmapiutil.CertificateHasCondition(crt, cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionTrue})
		issuing := cmapiutil.GetCertificateCondition(crt, cmapi.CertificateConditionIssuing) != nil
		rev := 0
		if crt.Status.Revision != nil {
			rev = *crt.Status.Revision
		}
		return ready && !issuing && rev > minRevision, fmt.Sprintf("revision %d, conditions %v", rev, crt.Status.Conditions), nil
	})
}

// revision is the Certificate's status.revision.
func revision(t *testing.T, ctx context.Context, name string) int {
	t.Helper()
	crt, err := suite.CM.CertmanagerV1().Certificates(namespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	if crt.Status.Revision == nil {
		return 0
	}
	return *crt.Status.Revision
}

// renew triggers a re-issuance the way `cmctl renew` does: it adds the Issuing
// condition to the Certificate's status.
func renew(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	crt, err := suite.CM.CertmanagerV1().Certificates(namespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	cmapiutil.SetCertificateCondition(crt, crt.Generation, cmapi.CertificateConditionIssuing, cmmeta.ConditionTrue,
		"ManuallyTriggered", "Certificate re-issuance manually triggered")
	_, err = suite.CM.CertmanagerV1().Certificates(namespace).UpdateStatus(ctx, crt, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// caBundles returns every webhook's caBundle, keyed by configuration kind and webhook name.
func caBundles(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: appName}, m); err != nil {
		return nil, err
	}
	for _, w := range m.Webhooks {
		out["mutating/"+w.Name] = w.ClientConfig.CABundle
	}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: appName}, v); err != nil {
		return nil, err
	}
	for _, w := range v.Webhooks {
		out["validating/"+w.Name] = w.ClientConfig.CABundle
	}
	return out, nil
}

// shippedWebhooks counts the webhook entries of deploy/manifests; 0 if they
// cannot be read (and then no count matches).
func shippedWebhooks() int {
	root, err := devenv.FindRepoRoot()
	if err != nil {
		return 0
	}
	objs, err := devenv.LoadManifests(root)
	if err != nil {
		return 0
	}
	n := 0
	for _, o := range objs {
		switch o := o.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			n += len(o.Webhooks)
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			n += len(o.Webhooks)
		}
	}
	return n
}

// waitCABundles waits until every shipped webhook's caBundle holds exactly the certificates want.
func waitCABundles(ctx context.Context, want ...[]byte) error {
	var wantCerts []string
	for _, w := range want {
		cs, err := certutil.ParseCertsPEM(w)
		if err != nil {
			return err
		}
		for _, c := range cs {
			wantCerts = append(wantCerts, string(c.Raw))
		}
	}
	slices.Sort(wantCerts)
	return eventually(ctx, 60*time.Second, "caBundles injected", func(ctx context.Context) (bool, string, error) {
		bundles, err := caBundles(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		if want := shippedWebhooks(); len(bundles) != want {
			return false, "", fmt.Errorf("want %d webhooks, have %d", want, len(bundles))
		}
		for name, b := range bundles {
			if len(b) == 0 {
				return false, name + ": empty", nil
			}
			cs, err := certutil.ParseCertsPEM(b)
			if err != nil {
				return false, name + ": " + err.Error(), nil
			}
			var got []string
			for _, c := range cs {
				got = append(got, string(c.Raw))
			}
			slices.Sort(got)
			if !slices.Equal(got, wantCerts) {
				return false, fmt.Sprintf("%s: %d certificates, not the expected %d", name, len(got), len(wantCerts)), nil
			}
		}
		return true, "", nil
	})
}

// cert-manager's CA injector fills every caBundle of both configurations with
// the CA — not the serving certificate.
func stepCAInjected(t *testing.T, in *install) {
	ctx := stepContext(t)
	require.NoError(t, waitCABundles(ctx, in.ca))
	leaf := mustCerts(t, getSecret(t, ctx, servingName).Data["tls.crt"])[0]
	bundles, err := caBundles(ctx)
	require.NoError(t, err)
	for name, b := range bundles {
		certs := mustCerts(t, b)
		require.Len(t, certs, 1, name)
		assert.True(t, certs[0].IsCA, "%s: the injected certificate is a CA", name)
		assert.False(t, bytes.Equal(certs[0].Raw, leaf.Raw), "%s: the serving certificate itself was injected", name)
	}
	out, _ := runDocBlock(t, ctx, "show-cabundle")
	assert.Regexp(t, `subject=CN ?= ?laminar-ha-webhook-ca\n`, out)
}

// Applying the manifests again (an upgrade, a GitOps sync) leaves the injected
// caBundles alone: kubectl apply changes only fields the manifests set.
func stepReapplyKeepsCABundles(t *testing.T, _ *install) {
	ctx := stepContext(t)
	before, err := caBundles(ctx)
	require.NoError(t, err)
	_, stderr := mustKubectl(t, ctx, "apply", "-k", "deploy/manifests")
	assert.Empty(t, warningLines(stderr))
	after, err := caBundles(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// The webhook runs from the binary the image contains, with what its pod
// template gives it: the issued Secret and the policy ConfigMap as mounted
// volumes, and its ServiceAccount's token. Its readiness probe needs its
// caches synced, so this also proves the ClusterRole is enough.
func stepWebhookRunsAsPod(t *testing.T, in *install) {
	ctx := stepContext(t)
	dir := filepath.Join(suite.WorkDir, "pod-"+strings.ToLower(in.name))
	require.NoError(t, os.MkdirAll(dir, 0o700))
	pod, err := startLocalPod(ctx, dir)
	require.NoError(t, err)
	in.pod = pod
	t.Logf("webhook: %s %s", suite.Binary, strings.Join(pod.Args, " "))

	tls := pod.Volumes["tls"]
	require.NotNil(t, tls, "a volume named tls")
	assert.ElementsMatch(t, []string{"tls.crt", "tls.key"}, keys(tls.Files()), "only the certificate and key are mounted")
	policy := pod.Volumes["policy"]
	require.NotNil(t, policy, "a volume named policy")
	assert.Contains(t, string(policy.Files()["policy.yaml"]), "kind: Policy")
	log := pod.Log()
	assert.Contains(t, log, policy.Dir+"/policy.yaml", "the webhook runs with the shipped policy")
	assert.NotContains(t, log, "no cluster access", "the webhook watches the cluster")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The ServiceAccount may list and watch what the webhook caches, get the
// workloads the audit reads whole, write the audit's reports, and nothing
// else: no reads of Secrets or Pods, no other writes.
func stepLeastPrivilege(t *testing.T, _ *install) {
	ctx := stepContext(t)
	user := "system:serviceaccount:" + namespace + ":" + appName
	can := func(verb, group, resource string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: "default", Verb: verb, Group: group, Resource: resource,
			},
		}}
		require.NoError(t, suite.Client.Create(ctx, sar))
		return sar.Status.Allowed
	}
	for _, r := range [][2]string{{"", "namespaces"}, {"apps", "deployments"}, {"apps", "statefulsets"},
		{"policy", "poddisruptionbudgets"}, {"autoscaling", "horizontalpodautoscalers"},
		{"", "services"}, {"networking.k8s.io", "ingressclasses"}} {
		for _, verb := range []string{"list", "watch"} {
			assert.True(t, can(verb, r[0], r[1]), "%s %s/%s", verb, r[0], r[1])
		}
		// The audit reads a changed workload whole (the caches keep only what
		// admission reads): a GET of workloads, and of nothing else.
		assert.Equal(t, r[0] == "apps", can("get", r[0], r[1]), "get %s/%s", r[0], r[1])
		for _, verb := range []string{"create", "update", "patch", "delete"} {
			assert.False(t, can(verb, r[0], r[1]), "%s %s/%s is not needed", verb, r[0], r[1])
		}
	}
	// The audit's reports are the only objects it writes.
	for _, verb := range []string{"get", "list", "watch", "create", "update", "delete"} {
		assert.True(t, can(verb, "openreports.io", "reports"), "%s openreports.io/reports", verb)
	}
	assert.False(t, can("deletecollection", "openreports.io", "reports"))
	assert.False(t, can("create", "openreports.io", "clusterreports"))
	for _, r := range [][2]string{{"", "secrets"}, {"", "pods"}, {"", "configmaps"}, {"cert-manager.io", "certificates"}} {
		assert.False(t, can("list", r[0], r[1]), "list %s/%s", r[0], r[1])
		assert.False(t, can("get", r[0], r[1]), "get %s/%s", r[0], r[1])
	}
	// Checking who scrapes /metrics: reviews, which store nothing.
	for _, r := range [][2]string{{"authentication.k8s.io", "tokenreviews"}, {"authorization.k8s.io", "subjectaccessreviews"}} {
		assert.True(t, can("create", r[0], r[1]), "create %s/%s", r[0], r[1])
	}
}

// localizeForAPIServer makes the installed Service and webhook configurations
// reach the local process, changing nothing else (as internal/devenv does): the
// Service becomes an ExternalName for localhost on the webhook's local port,
// and each webhook's clientConfig.service.port that port. The API server still
// dials laminar-ha-webhook.laminar-ha-system.svc and verifies the serving
// certificate for that name against the injected caBundle.
func localizeForAPIServer(t *testing.T, ctx context.Context, port int) {
	t.Helper()
	svc := &corev1.Service{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, svc))
	require.Len(t, svc.Spec.Ports, 1)
	svc.Spec = corev1.ServiceSpec{
		Type:         corev1.ServiceTypeExternalName,
		ExternalName: "localhost",
		Ports: []corev1.ServicePort{{
			Name: svc.Spec.Ports[0].Name, Protocol: corev1.ProtocolTCP,
			Port: int32(port), TargetPort: intstr.FromInt32(int32(port)),
		}},
	}
	require.NoError(t, suite.Client.Update(ctx, svc))

	for _, obj := range []ctrlclient.Object{&admissionregistrationv1.MutatingWebhookConfiguration{}, &admissionregistrationv1.ValidatingWebhookConfiguration{}} {
		require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: appName}, obj))
		n := 0
		switch o := obj.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			n = len(o.Webhooks)
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			n = len(o.Webhooks)
		}
		// A JSON patch of the ports alone, so the injected caBundles stay untouched.
		var ops []map[string]any
		for i := range n {
			ops = append(ops, map[string]any{"op": "replace", "path": fmt.Sprintf("/webhooks/%d/clientConfig/service/port", i), "value": port})
		}
		patch, err := json.Marshal(ops)
		require.NoError(t, err)
		require.NoError(t, suite.Client.Patch(ctx, obj, ctrlclient.RawPatch(types.JSONPatchType, patch)))
	}
}

// The API server calls the webhook over TLS it verifies against the injected
// CA: a compliant Laminar Deployment comes back with HA defaults (mutating
// webhook) and one with a single replica is denied with [replicas-min]
// (validating webhook, failurePolicy Fail).
func stepAdmissionOverVerifiedTLS(t *testing.T, in *install) {
	ctx := stepContext(t)
	bundles, err := caBundles(ctx)
	require.NoError(t, err)
	leaf, err := devenv.ServedCert(ctx, in.pod.WebhookPort, bundles["validating/validate.ha.laminar.io"], serviceHost)
	require.NoError(t, err, "the served certificate verifies against the injected caBundle for %s", serviceHost)
	assert.Equal(t, serial(mustCerts(t, getSecret(t, ctx, servingName).Data["tls.crt"])[0]), serial(leaf))

	localizeForAPIServer(t, ctx, in.pod.WebhookPort)
	c := loadClient(t)
	require.NoError(t, eventually(ctx, 60*time.Second, "admission through the webhook", func(ctx context.Context) (bool, string, error) {
		if err := devenv.CheckAdmission(ctx, c, "install-probe", true); err != nil {
			return false, err.Error(), nil
		}
		if err := devenv.CheckAdmission(ctx, c, "install-probe", false); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	}))
	assert.Contains(t, in.pod.Log(), "replicas-min", "the webhook logged the denial")
	requireTLSVerified(t, ctx, in)
	out, _ := runDocBlock(t, ctx, "smoke")
	assert.Contains(t, out, `"maxUnavailable":0`, "docs/install.md's smoke test shows the filled-in strategy")
}

// requireTLSVerified shows that the API server does verify the webhook's
// certificate against caBundle: a throw-away configuration that calls the same
// webhook with an unrelated CA in its caBundle gets a TLS error, one with the
// injected caBundle gets the webhook's answer.
func requireTLSVerified(t *testing.T, ctx context.Context, in *install) {
	t.Helper()
	real := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: appName}, real))
	require.NotEmpty(t, real.Webhooks, "validating webhooks of %s", appName)
	other, err := devenv.NewCerts("unrelated.example")
	require.NoError(t, err)
	c := loadClient(t)
	for _, tc := range []struct {
		name     string
		caBundle []byte
		check    func(err error)
	}{
		{"unrelated-ca", other.CACert, func(err error) {
			require.Error(t, err, "a webhook behind an untrusted certificate must not be reached")
			assert.Contains(t, err.Error(), `failed calling webhook "tls-probe.ha.laminar.io"`)
			assert.Contains(t, err.Error(), "x509")
		}},
		{"injected-ca", real.Webhooks[0].ClientConfig.CABundle, func(err error) {
			assert.True(t, devenv.DeniedByRule(err, "replicas-min"), "want the webhook's denial, got %v", err)
		}},
	} {
		w := *real.Webhooks[0].DeepCopy()
		w.Name = "tls-probe.ha.laminar.io"
		w.ClientConfig.CABundle = tc.caBundle
		w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tls-probe": tc.name}}
		// The probe lives in the webhook's own namespace, which the shipped
		// configurations leave out by name: only the probe configuration calls the
		// webhook for it, so its answer (or TLS error) is the one returned.
		w.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}}
		probe := &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "laminar-ha-webhook-tls-probe-" + tc.name},
			Webhooks:   []admissionregistrationv1.ValidatingWebhook{w},
		}
		require.NoError(t, suite.Client.Create(ctx, probe))
		labels := map[string]string{"tls-probe": tc.name}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "tls-probe", Namespace: namespace, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptrTo[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tls-probe": tc.name, "app": "laminar-api"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "ghcr.io/laminar/laminar:tls-probe"}}},
				},
			},
		}
		// The API server's webhook informer needs a moment to see the new configuration.
		require.NoError(t, eventually(ctx, 30*time.Second, "configuration "+probe.Name+" in effect", func(ctx context.Context) (bool, string, error) {
			err := c.Create(ctx, d.DeepCopy(), ctrlclient.DryRunAll)
			return err != nil, fmt.Sprint(err), nil
		}))
		tc.check(c.Create(ctx, d.DeepCopy(), ctrlclient.DryRunAll))
		require.NoError(t, suite.Client.Delete(ctx, probe))
	}
}

func loadClient(t *testing.T) ctrlclient.Client {
	cfg := rest.CopyConfig(suite.Config)
	cfg.WarningHandler = rest.NoWarnings{}
	c, err := ctrlclient.New(cfg, ctrlclient.Options{Scheme: suite.Scheme})
	require.NoError(t, err)
	return c
}

// admissionLoad is devenv's stream of checked admissions, with the suite's waits.
type admissionLoad struct{ *devenv.AdmissionLoad }

func startLoad(t *testing.T, workers int) *admissionLoad {
	return &admissionLoad{devenv.StartAdmissionLoad(loadClient(t), "install-probe", workers, 20*time.Millisecond)}
}

func (l *admissionLoad) counts() (int, []string) { return l.Counts() }

// waitMore waits until n more requests were answered right.
func (l *admissionLoad) waitMore(ctx context.Context, n int) error {
	base, _ := l.counts()
	return eventually(ctx, 60*time.Second, fmt.Sprintf("%d more admissions", n), func(context.Context) (bool, string, error) {
		ok, _ := l.counts()
		return ok >= base+n, fmt.Sprintf("%d of %d", ok-base, n), nil
	})
}

// stop ends the stream and requires that no request got a wrong answer.
func (l *admissionLoad) stop(t *testing.T, minOK int) {
	t.Helper()
	ok, failed := l.Stop()
	t.Logf("admission stream: %d right answers, %d wrong", ok, len(failed))
	if len(failed) > 10 {
		failed = append(failed[:10], fmt.Sprintf("... and %d more", len(failed)-10))
	}
	assert.Empty(t, failed, "admissions that failed")
	assert.GreaterOrEqual(t, ok, minOK, "admissions answered")
}

// waitServed waits until the webhook presents the serving certificate now in
// the Secret, verified against roots.
func waitServed(ctx context.Context, pod *localPod, roots []byte) (*x509.Certificate, error) {
	var served *x509.Certificate
	err := eventually(ctx, 60*time.Second, "webhook serves the new certificate", func(ctx context.Context) (bool, string, error) {
		s := &corev1.Secret{}
		if err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: servingName}, s); err != nil {
			return false, err.Error(), nil
		}
		want, err := certutil.ParseCertsPEM(s.Data["tls.crt"])
		if err != nil {
			return false, err.Error(), nil
		}
		got, err := devenv.ServedCert(ctx, pod.WebhookPort, roots, serviceHost)
		if err != nil {
			return false, err.Error(), nil
		}
		served = got
		return sameSerial(got.SerialNumber, want[0].SerialNumber), "serving " + serial(got) + ", Secret has " + serial(want[0]), nil
	})
	return served, err
}

// A renewal of the serving certificate (triggered as `cmctl renew` does)
// reaches the running webhook through its volume, without a restart; the
// caBundles do not change, and not one admission fails meanwhile.
func stepServingRenewal(t *testing.T, in *install) {
	ctx := stepContext(t)
	before, err := caBundles(ctx)
	require.NoError(t, err)
	oldLeaf := mustCerts(t, getSecret(t, ctx, servingName).Data["tls.crt"])[0]
	rev := revision(t, ctx, servingName)

	load := startLoad(t, 2)
	defer func() { _, _ = load.Stop() }()
	require.NoError(t, load.waitMore(ctx, 10), "admissions before the renewal")
	renew(t, ctx, servingName)
	require.NoError(t, waitCertificateReady(ctx, servingName, rev))
	served, err := waitServed(ctx, in.pod, in.ca)
	require.NoError(t, err)
	assert.NotEqual(t, serial(oldLeaf), serial(served), "a new serving certificate")
	require.NoError(t, load.waitMore(ctx, 20), "admissions after the renewal")
	load.stop(t, 30)

	after, err := caBundles(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a renewal of the serving certificate leaves every caBundle as it was")
	select {
	case <-in.pod.Exited():
		t.Fatal("the webhook exited")
	default:
	}
}

// The early CA rotation of docs/install.md, run from the document, under a
// steady admission stream that must see no failure:
//  1. renew the CA Certificate: nothing else changes (the caBundles keep the old
//     CA, which signed the certificate the pods serve);
//  2. renew the serving certificate: it is signed by the new CA, and the CA
//     injector adds the new CA to every caBundle next to the old one;
//  3. (the pods serve the new certificate);
//  4. replace every caBundle with the new CA alone.
//
// Steps 1 and 2 are also what cert-manager does by itself when the CA nears
// expiry (CA renewal, then the next scheduled serving renewal).
func stepCARotation(t *testing.T, in *install) {
	ctx := stepContext(t)
	oldCA := in.ca
	load := startLoad(t, 2)
	defer func() { _, _ = load.Stop() }()
	require.NoError(t, load.waitMore(ctx, 10))

	// 1.
	_, _ = runDocBlock(t, ctx, "renew-ca")
	newCA := getSecret(t, ctx, caCertName).Data["tls.crt"]
	require.NotEqual(t, oldCA, newCA, "a new CA")
	require.Len(t, mustCerts(t, newCA), 1)
	assert.Equal(t, oldCA, getSecret(t, ctx, servingName).Data["ca.crt"], "the serving certificate is not re-issued with the CA")
	require.NoError(t, waitCABundles(ctx, oldCA), "the caBundles keep the old CA while the pods serve its certificate")
	require.NoError(t, load.waitMore(ctx, 10))

	// 2.
	_, _ = runDocBlock(t, ctx, "renew-serving")
	assert.Equal(t, newCA, getSecret(t, ctx, servingName).Data["ca.crt"], "signed by the new CA")
	require.NoError(t, waitCABundles(ctx, oldCA, newCA), "the CA injector adds the new CA and keeps the old one")

	// 3.
	served, err := waitServed(ctx, in.pod, newCA)
	require.NoError(t, err, "the new serving certificate verifies against the new CA alone")
	verifyLeaf(t, served, newCA)
	require.NoError(t, load.waitMore(ctx, 20))

	// 4.
	_, _ = runDocBlock(t, ctx, "drop-old-ca")
	require.NoError(t, waitCABundles(ctx, newCA))
	require.NoError(t, load.waitMore(ctx, 20))
	load.stop(t, 60)
	in.ca = newCA
}

// On SIGTERM (sent after the preStop sleep) the webhook drains and exits 0
// within the time the pod's grace period leaves after the preStop hook.
func stepGracefulShutdown(t *testing.T, in *install) {
	spec := in.pod.Deployment.Spec.Template.Spec
	require.NotNil(t, spec.TerminationGracePeriodSeconds)
	pre := in.pod.Container.Lifecycle.PreStop
	require.NotNil(t, pre.Sleep, "a native sleep preStop action")
	budget := time.Duration(*spec.TerminationGracePeriodSeconds-pre.Sleep.Seconds) * time.Second
	took, err := in.pod.Terminate(budget)
	require.NoError(t, err, "exit after SIGTERM")
	t.Logf("drained and exited %s after SIGTERM (budget %s)", took.Round(time.Millisecond), budget)
}
