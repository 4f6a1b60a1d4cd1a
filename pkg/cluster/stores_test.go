package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/workload"
)

func TestKindOfNamesTheWatchedKind(t *testing.T) {
	assert.Equal(t, "Deployment", kindOf(&appsv1.Deployment{}))
	assert.Equal(t, "Namespace", kindOf(namespaceMeta()), "a metadata-only watch is named by its kind")
}

// The cache's object counts are what its stores hold, at every scrape.
func TestCacheObjectsCountsTheStores(t *testing.T) {
	deps := newIndexer()
	for _, name := range []string{"a", "b"} {
		assert.NoError(t, deps.Add(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}))
	}
	stores := map[string]toolscache.Indexer{"Deployment": deps, "Namespace": newIndexer()}
	assert.Equal(t, map[string]int{"Deployment": 2, "Namespace": 0}, storeSizes(stores))

	metrics.CacheObjects.Source(func() map[string]int { return storeSizes(stores) })
	want := func(deployments int) string {
		return fmt.Sprintf(`# HELP laminar_ha_cluster_cache_objects Objects held by the webhook's cluster cache, by kind.
# TYPE laminar_ha_cluster_cache_objects gauge
laminar_ha_cluster_cache_objects{kind="Deployment"} %d
laminar_ha_cluster_cache_objects{kind="Namespace"} 0
`, deployments)
	}
	assert.NoError(t, testutil.CollectAndCompare(metrics.CacheObjects, strings.NewReader(want(2))))
	assert.NoError(t, deps.Add(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}}))
	assert.NoError(t, testutil.CollectAndCompare(metrics.CacheObjects, strings.NewReader(want(3))), "counted again at each scrape")
}

// newIndexer is a store as an informer keeps it: by namespace/name, indexed by namespace.
func newIndexer() toolscache.Indexer {
	return toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
}

// withStores is fakeCache with the informers' stores too, holding the same
// slimmed objects, so the selecting lists scan them in place as in the webhook.
func withStores(t *testing.T, objs ...any) *Cache {
	t.Helper()
	c := fakeCache(t, true, objs...)
	stores := map[string]toolscache.Indexer{}
	for _, o := range objs {
		s, err := slim(deepCopy(t, o))
		require.NoError(t, err)
		typed, ok := typedCopy(s)
		require.True(t, ok, "%T", s)
		kind := kindOf(typed)
		if stores[kind] == nil {
			stores[kind] = newIndexer()
		}
		require.NoError(t, stores[kind].Add(s))
	}
	c.stores.Store(&stores)
	return c
}

// Scanning the stores in place answers exactly as listing copies from the
// reader did, in every namespace and across them, and hands out copies: a
// caller that changes an answer changes nothing cached.
func TestSelectingListsScanAsTheReaderLists(t *testing.T) {
	objs := append(clusterObjects(t, "laminar", nil), clusterObjects(t, "other", nil)...)
	listed, scanned := fakeCache(t, true, objs...), withStores(t, objs...)
	require.NotNil(t, scanned.stores.Load())
	ctx := context.Background()
	for _, ns := range []string{"laminar", "other", "absent", ""} {
		for _, sel := range []labels.Selector{labels.Everything(), labels.SelectorFromSet(apiPods), labels.SelectorFromSet(map[string]string{"app": "web"})} {
			assert.Equal(t, canonical(t, listed.WorkloadsSelected(ctx, ns, sel)), canonical(t, scanned.WorkloadsSelected(ctx, ns, sel)),
				"workloads in %q selected by %s", ns, sel)
		}
		for _, pods := range []map[string]string{apiPods, controllerPods, {"app": "web"}} {
			assert.Equal(t, canonical(t, listed.BudgetsSelecting(ctx, ns, pods)), canonical(t, scanned.BudgetsSelecting(ctx, ns, pods)), "budgets in %q of %v", ns, pods)
			assert.Equal(t, canonical(t, listed.ServicesSelecting(ctx, ns, pods)), canonical(t, scanned.ServicesSelecting(ctx, ns, pods)), "services in %q of %v", ns, pods)
		}
		for _, target := range [][2]string{{"Deployment", "laminar-api"}, {"StatefulSet", "laminar-api"}, {"Deployment", "absent"}} {
			assert.Equal(t, canonical(t, listed.AutoscalersTargeting(ctx, ns, target[0], target[1])),
				canonical(t, scanned.AutoscalersTargeting(ctx, ns, target[0], target[1])), "autoscalers in %q of %v", ns, target)
		}
	}
	assert.Len(t, scanned.WorkloadsSelected(ctx, "laminar", labels.SelectorFromSet(apiPods)), 1)
	assert.Len(t, scanned.BudgetsSelecting(ctx, "laminar", apiPods), 1)
	assert.Len(t, scanned.AutoscalersTargeting(ctx, "laminar", "Deployment", "laminar-api"), 1)
	assert.Len(t, scanned.ServicesSelecting(ctx, "laminar", apiPods), 1)

	w := scanned.WorkloadsSelected(ctx, "laminar", labels.SelectorFromSet(apiPods))[0]
	w.Template.Labels["app"] = "changed"
	scanned.BudgetsSelecting(ctx, "laminar", apiPods)[0].Spec.Selector.MatchLabels["app"] = "changed"
	scanned.AutoscalersTargeting(ctx, "laminar", "Deployment", "laminar-api")[0].Spec.ScaleTargetRef.Name = "changed"
	scanned.ServicesSelecting(ctx, "laminar", apiPods)[0].Spec.Selector["app"] = "changed"
	assert.Len(t, scanned.WorkloadsSelected(ctx, "laminar", labels.SelectorFromSet(apiPods)), 1, "the cached workload is unchanged")
	assert.Len(t, scanned.BudgetsSelecting(ctx, "laminar", apiPods), 1, "the cached budget is unchanged")
	assert.Len(t, scanned.AutoscalersTargeting(ctx, "laminar", "Deployment", "laminar-api"), 1, "the cached autoscaler is unchanged")
	assert.Len(t, scanned.ServicesSelecting(ctx, "laminar", apiPods), 1, "the cached Service is unchanged")
}

// canonical is an answer as JSON, one object a line, sorted: the in-memory
// client the reader lists from round-trips objects through JSON (it drops the
// kind of listed items, and a time's location), the stores hand out copies of
// what the informer decoded, so only the JSON can be compared.
func canonical[T any](t *testing.T, answer []T) []string {
	t.Helper()
	var out []string
	for i := range answer {
		// By address, so that a budget's or autoscaler's kind can be cleared too.
		var obj any = &answer[i]
		if w, ok := any(answer[i]).(*workload.Workload); ok {
			obj = w.Deployment
			if w.StatefulSet != nil {
				obj = w.StatefulSet
			}
		}
		if o, ok := obj.(interface{ GetObjectKind() schema.ObjectKind }); ok {
			o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
		}
		b, err := json.Marshal(obj)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}
