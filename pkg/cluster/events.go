package cluster

import (
	"context"
	"fmt"

	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reader reads the cached objects (every namespace), for the audit's full passes.
func (c *Cache) Reader() client.Reader { return c.reader }

// OnChange calls changed with the old and new object (one of them nil on add
// and delete) of every event of the workloads, budgets, autoscalers and
// namespaces the cache watches, for the audit to judge again what moved.
func (c *Cache) OnChange(ctx context.Context, changed func(old, new client.Object)) error {
	if c.cache == nil {
		return nil // a fixed view: nothing changes
	}
	for _, obj := range []client.Object{namespaceMeta(), &appsv1.Deployment{}, &appsv1.StatefulSet{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}} {
		inf, err := c.cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { changed(nil, asObject(o)) },
			UpdateFunc: func(o, n any) { changed(asObject(o), asObject(n)) },
			DeleteFunc: func(o any) { changed(asObject(o), nil) },
		}); err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
	}
	return nil
}

// Watch starts (or joins) the cache's watch of obj's kind, so that the reader
// answers for it; an error when the API server does not serve the kind.
func (c *Cache) Watch(ctx context.Context, obj client.Object) error {
	if c.cache == nil {
		return nil
	}
	_, err := c.cache.GetInformer(ctx, obj)
	return err
}

// asObject unwraps a deleted object whose final state the watch missed, and
// rebuilds a stored form.
func asObject(o any) client.Object {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	if s, ok := o.(stored); ok {
		return s.object()
	}
	obj, _ := o.(client.Object)
	return obj
}

// WaitForSync blocks until the cache has started and every watch has listed;
// false when ctx ended first.
func (c *Cache) WaitForSync(ctx context.Context) bool {
	if c.cache == nil {
		return true
	}
	return c.cache.WaitForCacheSync(ctx)
}

// NewWriter is a direct client for the kinds the cache knows: what the audit
// writes and reads whole.
func NewWriter(cfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := reportsv1alpha1.Install(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}
