package certmanager

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
)

const (
	chartDir    = "charts/laminar-ha-webhook"
	releaseName = appName
)

// helmEnv keeps Helm's cache, config and data in the work dir, away from the
// user's own, for the suite's helm commands and the guide's alike.
func (s *suiteEnv) helmEnv() []string {
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(s.WorkDir, "helm", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(s.WorkDir, "helm", "config"),
		"HELM_DATA_HOME=" + filepath.Join(s.WorkDir, "helm", "data"),
	}
}

// helm runs bin/helm from the repository root with the admin kubeconfig.
func (s *suiteEnv) helm(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	env := append(append(os.Environ(), "KUBECONFIG="+s.Kubeconfig), s.helmEnv()...)
	return runCmd(ctx, s.Root, nil, env, s.Helm, args...)
}

// The guide's Helm path from an empty cluster: the release namespace with the
// Pod Security labels, a preview (the rendering, server-side dry run), then
// helm install with default values (certificates.mode certManager).
func stepHelmInstall(t *testing.T, _ *install) {
	ctx := stepContext(t)
	runDocBlock(t, ctx, "helm-namespace")
	out, stderr := runDocBlock(t, ctx, "helm-preview")
	assert.Empty(t, warningLines(stderr), "warnings")
	assert.Contains(t, out, "deployment.apps/laminar-ha-webhook created (server dry run)")
	assert.Contains(t, out, "certificate.cert-manager.io/laminar-ha-webhook-serving created (server dry run)")
	err := suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, &appsv1.Deployment{})
	require.True(t, apierrors.IsNotFound(err), "the preview stored the Deployment: %v", err)

	out, _ = runDocBlock(t, ctx, "helm-install")
	assert.Contains(t, out, "STATUS: deployed")
	assert.Contains(t, out, "certificates: certManager", "the chart's notes")
	dep := &appsv1.Deployment{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, dep))
	assert.Equal(t, "Helm", dep.Labels["app.kubernetes.io/managed-by"], "Helm owns the release's objects")
}

// helm upgrade with a new value changes what it asks for and leaves the
// caBundles cert-manager injected alone: the chart sets no caBundle, and Helm's
// server-side apply changes only the fields it manages.
func stepHelmUpgrade(t *testing.T, _ *install) {
	ctx := stepContext(t)
	before, err := caBundles(ctx)
	require.NoError(t, err)
	out, _ := runDocBlock(t, ctx, "helm-upgrade")
	assert.Contains(t, out, "REVISION: 2")
	dep := &appsv1.Deployment{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, dep))
	require.NotNil(t, dep.Spec.Replicas)
	assert.Equal(t, int32(3), *dep.Spec.Replicas)
	after, err := caBundles(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// The guide's uninstall removes every object of the release (the webhook
// configurations first, so nothing calls the webhook once its pods are gone)
// and keeps the namespace and the CRD, as Helm does.
func stepHelmUninstall(t *testing.T, in *install) {
	ctx := stepContext(t)
	out, _ := runDocBlock(t, ctx, "helm-uninstall")
	stopPod(in)
	assert.Contains(t, out, `release "laminar-ha-webhook" uninstalled`)
	requireUninstalled(t, ctx)
	_, stderr, err := suite.helm(ctx, "status", releaseName, "--namespace", namespace)
	require.Error(t, err, "the release is gone")
	assert.Contains(t, stderr, "release: not found")
	removeNamespaceLeftovers(t, ctx)
}

// The chart's default rendering, as a GitOps tool that renders charts applies
// it: helm template, then a server-side dry run with kubectl into the namespace
// the guide's commands created (the Helm phase left it).
func stepHelmTemplateDryRun(t *testing.T, in *install) {
	ctx := stepContext(t)
	ns := &corev1.Namespace{}
	require.NoError(t, suite.Client.Get(ctx, ctrlclient.ObjectKey{Name: namespace}, ns), "the namespace of the Helm phase")
	for _, mode := range []string{"enforce", "warn", "audit"} {
		assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/"+mode], mode)
	}
	out, stderr, err := suite.helm(ctx, "template", releaseName, chartDir, "--namespace", namespace, "--include-crds")
	require.NoError(t, err, stderr)
	in.rendered = filepath.Join(suite.WorkDir, "helm-template.yaml")
	require.NoError(t, os.WriteFile(in.rendered, []byte(out), 0o600))

	out, stderr = mustKubectl(t, ctx, "apply", "--dry-run=server", "-f", in.rendered)
	assert.Empty(t, applyWarnings(stderr), "warnings")
	assert.Contains(t, out, "deployment.apps/laminar-ha-webhook created (server dry run)")
	assert.Contains(t, out, "certificate.cert-manager.io/laminar-ha-webhook-serving created (server dry run)")
	err = suite.Client.Get(ctx, ctrlclient.ObjectKey{Namespace: namespace, Name: appName}, &appsv1.Deployment{})
	assert.True(t, apierrors.IsNotFound(err), "dry run stored the Deployment: %v", err)
}

func stepHelmTemplateApply(t *testing.T, in *install) {
	ctx := stepContext(t)
	out, stderr := mustKubectl(t, ctx, "apply", "-f", in.rendered)
	assert.Empty(t, applyWarnings(stderr), "warnings")
	for _, want := range []string{
		"deployment.apps/laminar-ha-webhook created",
		"issuer.cert-manager.io/laminar-ha-webhook-ca created",
		"validatingwebhookconfiguration.admissionregistration.k8s.io/laminar-ha-webhook created",
	} {
		assert.Contains(t, out, want)
	}
}

// Deleting the rendering removes what it installed, as kubectl delete -k
// does for the kustomization, but leaves the namespace, which the next phase
// installs into.
func stepHelmTemplateDelete(t *testing.T, in *install) {
	ctx := stepContext(t)
	mustKubectl(t, ctx, "delete", "-f", in.rendered, "--ignore-not-found")
	stopPod(in)
	requireUninstalled(t, ctx)
	removeNamespaceLeftovers(t, ctx)
}

func named(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

// stopPod ends the phase's webhook. Its graceful shutdown is a step of the
// Kustomize phase; here it is killed, which spares the shutdown delay.
func stopPod(in *install) {
	if in.pod != nil {
		in.pod.Kill()
		in.pod = nil
	}
}

// requireUninstalled checks that no object of the install is left, namespaced
// or cluster-wide, so the next phase installs into a clean cluster.
func requireUninstalled(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, o := range []ctrlclient.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: named("", appName)},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: named("", appName)},
		&rbacv1.ClusterRole{ObjectMeta: named("", appName)},
		&rbacv1.ClusterRoleBinding{ObjectMeta: named("", appName)},
		&appsv1.Deployment{ObjectMeta: named(namespace, appName)},
		&corev1.Service{ObjectMeta: named(namespace, appName)},
		&corev1.ConfigMap{ObjectMeta: named(namespace, policyCMName)},
		&cmapi.Certificate{ObjectMeta: named(namespace, servingName)},
	} {
		err := suite.Client.Get(ctx, ctrlclient.ObjectKeyFromObject(o), o)
		assert.True(t, apierrors.IsNotFound(err), "%T %s left: %v", o, o.GetName(), err)
	}
}

// removeNamespaceLeftovers deletes what the namespace still holds that no
// install path owns: cert-manager's Secrets, the CertificateRequests (their
// owner, the Certificate, is gone, and the suite runs no garbage collector)
// and the audit's Lease. Deleting the namespace would take them in a real
// cluster; here a new install must not find an old CA or an old request's
// name taken.
func removeNamespaceLeftovers(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, name := range []string{caCertName, servingName} {
		err := suite.Client.Delete(ctx, &corev1.Secret{ObjectMeta: named(namespace, name)})
		require.NoError(t, ctrlclient.IgnoreNotFound(err), "Secret %s", name)
	}
	in := ctrlclient.InNamespace(namespace)
	require.NoError(t, suite.Client.DeleteAllOf(ctx, &cmapi.CertificateRequest{}, in))
	require.NoError(t, suite.Client.DeleteAllOf(ctx, &coordinationv1.Lease{}, in))
}
