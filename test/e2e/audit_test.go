package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// auditFor waits for the audit log's ResponseComplete entry of a create in ns and
// returns its annotations (of the Deployment: a namespace may hold a budget of the same name).
func auditFor(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	return auditOf(t, ns, name, "deployments")
}

// auditOf is auditFor for a create of any of resources.
func auditOf(t *testing.T, ns, name string, resources ...string) map[string]string {
	t.Helper()
	var found *devenv.AuditEvent
	require.Eventually(t, func() bool {
		events, err := env.AuditEvents()
		if err != nil {
			return false
		}
		for i := range events {
			ev := events[i]
			if ev.Stage == "ResponseComplete" && ev.Verb == "create" && slices.Contains(resources, ev.ObjectRef.Resource) &&
				ev.ObjectRef.Namespace == ns && ev.ObjectRef.Name == name {
				found = &ev
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no audit entry for %s/%s", ns, name)
	return found.Annotations
}

// The API server's audit log explains each admission through the webhook's
// audit annotations, prefixed with the webhook's name.
func TestAuditAnnotations(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)

	denied := loadDeployment(t, example("api-bad.yaml"), newNamespace(t, nil))
	require.Error(t, c.Create(ctx, denied))
	a := auditFor(t, denied.Namespace, denied.Name)
	assert.Equal(t, "api", a["validate.ha.laminar.io/role"])
	assert.Equal(t, "deny", a["validate.ha.laminar.io/mode"])
	assert.Contains(t, a["validate.ha.laminar.io/denied"], "replicas-min")
	assert.Contains(t, a["validate.ha.laminar.io/violations"], "api-strategy-rolling")
	assert.Contains(t, a["mutate.ha.laminar.io/defaults-applied"], "set-api-zone-spread",
		"the mutating webhook's annotations are in the same entry")

	warned := loadDeployment(t, example("api-bad.yaml"), newNamespace(t, map[string]string{"ha.laminar.io/enforce": "warn"}))
	require.NoError(t, c.Create(ctx, warned))
	a = auditFor(t, warned.Namespace, warned.Name)
	assert.Equal(t, "warn", a["validate.ha.laminar.io/mode"])
	assert.Contains(t, a["validate.ha.laminar.io/audited"], "replicas-min")
	assert.Empty(t, a["validate.ha.laminar.io/denied"])

	good := loadDeployment(t, example("api-good.yaml"), newHANamespace(t))
	require.NoError(t, c.Create(ctx, good))
	a = auditFor(t, good.Namespace, good.Name)
	assert.True(t, strings.Contains(a["mutate.ha.laminar.io/defaults-applied"], "set-api-strategy"), "%v", a)
	assert.Empty(t, a["validate.ha.laminar.io/denied"])
}
