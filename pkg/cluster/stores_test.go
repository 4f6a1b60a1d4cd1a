package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/laminar/ha-webhook/pkg/metrics"
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
