package cluster

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// FromObjects is a cluster view over a fixed set of objects, answered by the
// same View methods as the live cache, so the offline check reads the
// workloads, budgets and autoscalers of its input exactly as the webhook reads
// the cluster's. Objects are slimmed as the cache slims them. controller-runtime's
// in-memory client holds them: it filters by namespace and kind as the cache's
// reader does. Two objects of one kind, namespace and name are an error.
func FromObjects(objs []client.Object) (c *Cache, err error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	stored := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		s, err := slimObject(o.DeepCopyObject())
		if err != nil {
			return nil, fmt.Errorf("cluster view of %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		co, ok := s.(client.Object)
		if !ok {
			return nil, fmt.Errorf("cluster view: %T is not an object", s)
		}
		stored = append(stored, co)
	}
	// The in-memory client panics on objects it cannot hold; say so as an error.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("cluster view: %v", r)
		}
	}()
	return &Cache{reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(stored...).Build()}, nil
}

// Over is a cluster view answered by r (a client, or an in-memory one in
// tests) instead of watch-fed caches: no events, nothing to start.
func Over(r client.Reader) *Cache { return &Cache{reader: r} }
