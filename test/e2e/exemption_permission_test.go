package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestOnlyGrantedUsersExempt: a user who may edit Deployments in a namespace
// MUST NOT add or change an exemption there (anyone who could edit a workload
// could otherwise excuse it from every HA rule); a user bound in that
// namespace to the shipped ClusterRole laminar-ha-exemption-granter may, and
// edits that leave the exemption as it was need no permission.
func TestOnlyGrantedUsersExempt(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t, nil)
	suffix := rand.String(6)
	tenant, lead := "tenant-"+suffix, "lead-"+suffix

	bind := func(name, role string, users ...string) *rbacv1.RoleBinding {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
		for _, u := range users {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
		}
		return b
	}
	// Not the built-in edit role: its rules are aggregated by the controller
	// manager, which this control plane does not run.
	editor := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e-deployment-editor-" + suffix},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch"}}}}
	require.NoError(t, env.Client.Create(ctx, editor))
	t.Cleanup(func() { _ = env.Client.Delete(testContext(t), editor) })
	require.NoError(t, env.Client.Create(ctx, bind("editors", editor.Name, tenant, lead)))

	raw, err := os.ReadFile(example("api-good.yaml"))
	require.NoError(t, err)
	plain := string(raw)
	exempted := func(reason string) string {
		return strings.Replace(plain, "  name: laminar-api\n", fmt.Sprintf(
			"  name: laminar-api\n  annotations:\n    ha.laminar.io/exempt: api-zone-spread\n    ha.laminar.io/exempt-reason: %q\n", reason), 1)
	}
	const permission = "grant on exemptions.ha.laminar.io in namespace "

	// The edit role is in force once the tenant's dry run of the plain workload
	// passes (RBAC is read from a cache): a marker, not a sleep.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, stderr, err := env.Kubectl(ctx, strings.NewReader(plain), "--as", tenant, "-n", ns, "apply", "--dry-run=server", "-f", "-")
		assert.NoError(c, err, "the edit role never took effect: %s", stderr)
	}, 20*time.Second, 100*time.Millisecond)

	// An exemption in the tenant's own create is refused, dry run or not.
	for _, args := range [][]string{{"--dry-run=server"}, nil} {
		_, stderr, err := kubectlStdin(t, exempted("zone outage drill, OPS-7"), append([]string{"--as", tenant, "-n", ns, "apply", "-f", "-"}, args...)...)
		require.Error(t, err, "tenant exempted its own workload %v", args)
		assert.Contains(t, stderr, "[exemption-permission]")
		assert.Contains(t, stderr, permission+ns+", and "+tenant+" does not have it")
		assert.Contains(t, stderr, "laminar-ha-exemption-granter")
	}
	// Without it the tenant creates the workload, and cannot annotate one in later.
	mustKubectlStdin(t, plain, "--as", tenant, "-n", ns, "apply", "-f", "-")
	_, stderr, err := kubectl(t, "--as", tenant, "-n", ns, "annotate", "deployment", "laminar-api",
		"ha.laminar.io/exempt=api-zone-spread", "ha.laminar.io/exempt-reason=just because")
	require.Error(t, err)
	assert.Contains(t, stderr, permission+ns)

	// The lead, granted the shipped role in this namespace, may.
	require.NoError(t, env.Client.Create(ctx, bind("exemption-granters", "laminar-ha-exemption-granter", lead)))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, stderr, err := env.Kubectl(ctx, strings.NewReader(exempted("zone outage drill, OPS-7")), "--as", lead, "-n", ns, "apply", "--dry-run=server", "-f", "-")
		assert.NoError(c, err, "the granter role never took effect: %s", stderr)
	}, 20*time.Second, 100*time.Millisecond)
	mustKubectlStdin(t, exempted("zone outage drill, OPS-7"), "--as", lead, "-n", ns, "apply", "-f", "-")

	// The tenant's later edits that leave the exemption alone pass; changing it does not.
	mustKubectl(t, "--as", tenant, "-n", ns, "scale", "deployment", "laminar-api", "--replicas=4")
	mustKubectl(t, "--as", tenant, "-n", ns, "label", "deployment", "laminar-api", "team=payments")
	_, stderr, err = kubectl(t, "--as", tenant, "-n", ns, "annotate", "--overwrite", "deployment", "laminar-api",
		"ha.laminar.io/exempt-reason=forever")
	require.Error(t, err)
	assert.Contains(t, stderr, permission+ns)

	// Removing an exemption makes the workload stricter and needs nothing.
	mustKubectl(t, "--as", tenant, "-n", ns, "annotate", "deployment", "laminar-api",
		"ha.laminar.io/exempt-", "ha.laminar.io/exempt-reason-")
	var got client.Object = loadDeployment(t, example("api-good.yaml"), ns)
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(got), got))
	assert.NotContains(t, got.GetAnnotations(), "ha.laminar.io/exempt")
}
