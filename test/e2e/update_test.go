package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var apiPodLabels = map[string]string{"app": "laminar-api"}

// createGoodAPI stores examples/api-good.yaml in a fresh namespace and returns it as stored.
func createGoodAPI(t *testing.T, c client.Client) *appsv1.Deployment {
	t.Helper()
	ctx := testContext(t)
	d := loadDeployment(t, example("api-good.yaml"), newNamespace(t, nil))
	require.NoError(t, c.Create(ctx, d))
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	return got
}

// UPDATE requests are judged and mutated like CREATE.
func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	d := createGoodAPI(t, c)

	bad := d.DeepCopy()
	bad.Spec.Replicas = ptr.To[int32](1)
	err := c.Update(ctx, bad)
	requireDenied(t, err, "Deployment", d.Name, map[string]string{"spec.replicas": "replicas-min"})

	// Removing a default on update: mutation puts it back.
	edit := d.DeepCopy()
	api := container(t, &edit.Spec.Template.Spec, "api")
	api.ReadinessProbe = nil
	api.Image = "ghcr.io/laminar/laminar:1.4.1"
	require.NoError(t, c.Update(ctx, edit))
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, "ghcr.io/laminar/laminar:1.4.1", container(t, &got.Spec.Template.Spec, "api").Image)
	assertAPIDefaults(t, got, apiPodLabels)
	assert.Equal(t, int32(3), *got.Spec.Replicas)
}

// PATCH requests are judged on the patched object.
func TestMergePatch(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	d := createGoodAPI(t, c)

	err := c.Patch(ctx, d.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":1}}`)))
	requireDenied(t, err, "Deployment", d.Name, map[string]string{"spec.replicas": "replicas-min"})
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, int32(3), *got.Spec.Replicas, "the denied patch changed nothing")
	assert.Equal(t, d.ResourceVersion, got.ResourceVersion)

	require.NoError(t, c.Patch(ctx, d.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"payments"}}}`))))
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, "payments", got.Labels["team"])
	assert.Equal(t, "laminar-api", got.Labels["app"])
	assertAPIDefaults(t, got, apiPodLabels)
}

// Server-side apply goes through the same admission chain.
func TestServerSideApply(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, nil)
	u := loadUnstructured(t, example("api-good.yaml"), ns)
	key := client.ObjectKey{Namespace: ns, Name: u.GetName()}

	require.NoError(t, c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("e2e")))
	got := &appsv1.Deployment{}
	require.NoError(t, c.Get(ctx, key, got))
	assertAPIDefaults(t, got, apiPodLabels)
	rv := got.ResourceVersion

	// The same configuration again changes nothing.
	require.NoError(t, c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner("e2e")))
	require.NoError(t, c.Get(ctx, key, got))
	assert.Equal(t, rv, got.ResourceVersion, "re-applying the same configuration must not write")
	assertAPIDefaults(t, got, apiPodLabels)

	// Lowering replicas through apply is denied.
	bad := u.DeepCopy()
	require.NoError(t, unstructured.SetNestedField(bad.Object, int64(1), "spec", "replicas"))
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(bad), client.FieldOwner("e2e"))
	requireDenied(t, err, "Deployment", u.GetName(), map[string]string{"spec.replicas": "replicas-min"})
	require.NoError(t, c.Get(ctx, key, got))
	assert.Equal(t, rv, got.ResourceVersion)
}
