package e2e

import (
	"context"
	"os/exec"
	"testing"
	"time"

	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/audit"
	"github.com/laminar/ha-webhook/pkg/policy"
)

// reportClient reads OpenReports Reports as the admin.
func reportClient(t *testing.T) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, reportsv1alpha1.Install(scheme))
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// resultOf is the result of rule on the workload's own report, "" while there is none.
func resultOf(ctx context.Context, c client.Client, ns, kind, name, rule string) string {
	rep := &reportsv1alpha1.Report{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: audit.ReportName(kind, name)}, rep); err != nil {
		return ""
	}
	for _, r := range rep.Results {
		if r.Rule == rule && len(r.Subjects) > 0 && r.Subjects[0].Kind == kind {
			return string(r.Result)
		}
	}
	return ""
}

// waitResult waits until rule's result on the workload's report is want.
func waitResult(t *testing.T, c client.Client, ns, kind, name, rule, want string) {
	t.Helper()
	ctx := testContext(t)
	require.Eventually(t, func() bool { return resultOf(ctx, c, ns, kind, name, rule) == want },
		60*time.Second, 100*time.Millisecond, "%s of %s %s/%s never became %q", rule, kind, ns, name, want)
}

// TestTheAuditReportsWhatAlreadyRuns: a non-compliant api created where
// enforcement is off MUST get a Report with a failing replicas-min, owned by
// it; fixing the workload MUST turn the result to pass; deleting it MUST delete
// the report; and the audit command MUST print the same finding and exit 1.
func TestTheAuditReportsWhatAlreadyRuns(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t, map[string]string{policy.LabelMode: policy.ModeOff})
	rc := reportClient(t)
	d := loadDeployment(t, example("api-bad.yaml"), ns)
	require.NoError(t, env.Client.Create(ctx, d), "enforcement is off here")

	waitResult(t, rc, ns, "Deployment", d.Name, "replicas-min", "fail")
	rep := &reportsv1alpha1.Report{}
	require.NoError(t, rc.Get(ctx, client.ObjectKey{Namespace: ns, Name: audit.ReportName("Deployment", d.Name)}, rep))
	require.Len(t, rep.OwnerReferences, 1)
	assert.Equal(t, d.UID, rep.OwnerReferences[0].UID, "owned by the workload: garbage-collected with it")
	assert.Equal(t, "laminar-ha-webhook", rep.Source)
	require.NotNil(t, rep.Scope)
	assert.Equal(t, d.Name, rep.Scope.Name)
	assert.Positive(t, rep.Summary.Fail)
	for _, r := range rep.Results {
		if r.Rule == "replicas-min" {
			assert.Equal(t, "laminar-ha", r.Policy)
			assert.Equal(t, "spec.replicas", r.Properties["field"])
			assert.Equal(t, "off", r.Properties["enforce"])
			assert.Contains(t, r.Description, "fix: set spec.replicas to 2 or more")
		}
	}

	// The audit command says the same, and exits 1: deny would refuse it.
	cmd := exec.CommandContext(ctx, env.WebhookBinary, "audit", "--kubeconfig", env.KubeconfigPath, "-n", ns, "--mode", "deny")
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "Deployment "+ns+"/"+d.Name+": denied")
	assert.Contains(t, string(out), "DENY [replicas-min] spec.replicas: Invalid value: 1")
	// Without --mode, the namespace's own (off) lists the finding and refuses nothing.
	out, err = exec.CommandContext(ctx, env.WebhookBinary, "audit", "--kubeconfig", env.KubeconfigPath, "-n", ns).Output()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "AUDIT [replicas-min]")

	// Fixed, it passes.
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"replicas":3}}`))
	require.NoError(t, env.Client.Patch(ctx, &appsv1.Deployment{ObjectMeta: d.ObjectMeta}, patch))
	waitResult(t, rc, ns, "Deployment", d.Name, "replicas-min", "pass")

	// Deleted, its report goes too.
	require.NoError(t, env.Client.Delete(ctx, d))
	require.Eventually(t, func() bool {
		err := rc.Get(ctx, client.ObjectKey{Namespace: ns, Name: audit.ReportName("Deployment", d.Name)}, &reportsv1alpha1.Report{})
		return apierrors.IsNotFound(err)
	}, 60*time.Second, 100*time.Millisecond, "the report outlived its workload")
}

// TestAPolicyChangeRejudgesWhatAlreadyRuns (serial: it changes the policy):
// raising replicas.min MUST turn a stored api's passing replicas-min into a
// failure without anyone touching the workload.
func TestAPolicyChangeRejudgesWhatAlreadyRuns(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, map[string]string{policy.LabelMode: policy.ModeOff})
	rc := reportClient(t)
	d := loadDeployment(t, example("api-good.yaml"), ns)
	require.NoError(t, env.Client.Create(ctx, d))
	waitResult(t, rc, ns, "Deployment", d.Name, "replicas-min", "pass")

	raised := "apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\napi:\n  replicas: {min: 4, recommended: 4}\n"
	usePolicy(t, raised, func() string {
		return resultOf(ctx, rc, ns, "Deployment", d.Name, "replicas-min")
	}, func(result string) bool { return result == "fail" })
	assert.Equal(t, "fail", resultOf(ctx, rc, ns, "Deployment", d.Name, "replicas-min"),
		"3 replicas under a floor of 4, judged again on the reload alone")
}
