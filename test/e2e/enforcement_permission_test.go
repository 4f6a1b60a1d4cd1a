package e2e

import (
	"fmt"
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

// overridePermission is how the shipped policy names the permission it asks for.
const overridePermission = "override on enforcement.ha.laminar.io"

// TestOnlyGrantedUsersSwitchEnforcement: a user who may create and patch
// Namespaces MUST NOT set, change or remove the ha.laminar.io/enforce and
// ha.laminar.io/mutate labels (anyone who could write a Namespace could switch
// the webhook off for it); the cluster admin and a user bound to the shipped
// ClusterRole laminar-ha-enforcement-override may. Other labels stay free.
func TestOnlyGrantedUsersSwitchEnforcement(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	suffix := rand.String(6)
	tenant, platform := "tenant-"+suffix, "platform-"+suffix

	editor := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-namespace-editor-" + suffix},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch"}}},
	}
	bind := func(name, role string, users ...string) *rbacv1.ClusterRoleBinding {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
		for _, u := range users {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
		}
		return b
	}
	for _, o := range []client.Object{
		editor,
		bind("e2e-namespace-editors-"+suffix, editor.Name, tenant, platform),
		bind("e2e-ha-override-"+suffix, "laminar-ha-enforcement-override", platform),
	} {
		require.NoError(t, env.Client.Create(ctx, o))
		t.Cleanup(func() { _ = env.Client.Delete(testContext(t), o) })
	}

	nsName := "e2e-switch-" + suffix
	namespace := func(labels string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {%s}\n", nsName, labels)
	}
	t.Cleanup(func() { _, _, _ = kubectl(t, "delete", "namespace", nsName, "--wait=false") })

	// The policy is in force once a dry run of the tenant's opt-out is refused
	// (the API server loads policies asynchronously): a marker, not a sleep.
	var stderr string
	require.Eventually(t, func() bool {
		_, stderr, _ = env.Kubectl(ctx, strings.NewReader(namespace(`ha.laminar.io/enforce: "off"`)),
			"--as", tenant, "create", "--dry-run=server", "-f", "-")
		return strings.Contains(stderr, overridePermission)
	}, 20*time.Second, 100*time.Millisecond, "the namespace-switch policy never took effect: %s", stderr)
	assert.Contains(t, stderr, tenant+" does not have it")

	// Creating the namespace labelled enforce=off is refused for real too.
	_, stderr, err := kubectlStdin(t, namespace(`ha.laminar.io/enforce: "off"`), "--as", tenant, "create", "-f", "-")
	require.Error(t, err)
	assert.Contains(t, stderr, overridePermission)

	// Without the switch labels the tenant creates it, and labels it freely otherwise.
	mustKubectlStdin(t, namespace(`team: payments`), "--as", tenant, "create", "-f", "-")
	mustKubectl(t, "--as", tenant, "label", "namespace", nsName, "cost-centre=42")

	// Switching to warn, or mutation off, is refused.
	for _, label := range []string{"ha.laminar.io/enforce=warn", "ha.laminar.io/mutate=off"} {
		_, stderr, err = kubectl(t, "--as", tenant, "label", "namespace", nsName, label)
		require.Error(t, err, "%s set by a tenant", label)
		assert.Contains(t, stderr, overridePermission, label)
	}

	// A user granted the shipped ClusterRole may.
	mustKubectl(t, "--as", platform, "label", "namespace", nsName, "ha.laminar.io/enforce=warn")
	// The tenant may neither change nor remove what the platform team set.
	for _, args := range [][]string{{"--overwrite", "ha.laminar.io/enforce=deny"}, {"ha.laminar.io/enforce-"}} {
		_, stderr, err = kubectl(t, append([]string{"--as", tenant, "label", "namespace", nsName}, args...)...)
		require.Error(t, err, "tenant: label %v", args)
		assert.Contains(t, stderr, overridePermission)
	}
	// Other labels of a switched namespace stay the tenant's to change.
	mustKubectl(t, "--as", tenant, "label", "--overwrite", "namespace", nsName, "cost-centre=43")
	// The cluster admin may too.
	mustKubectl(t, "label", "--overwrite", "namespace", nsName, "ha.laminar.io/enforce=off")

	// Switching enforcement back on is recorded (see off_namespace_ratchet_test.go),
	// and the record is guarded like the labels: the tenant may not remove it.
	mustKubectl(t, "label", "namespace", nsName, "ha.laminar.io/enforce-")
	_, stderr, err = kubectl(t, "--as", tenant, "annotate", "namespace", nsName, "ha.laminar.io/enforced-since-")
	require.Error(t, err, "a tenant removed the record of enforcement coming back on")
	assert.Contains(t, stderr, overridePermission)
}
