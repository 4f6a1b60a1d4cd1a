// Package cluster is the webhook's read-only view of the cluster: informer caches,
// filled by watches, so no admission request waits on an API call.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

var _ rules.View = (*Cache)(nil)

// Config finds how to reach the API server: an explicit kubeconfig path, else the
// pod's service account, else $KUBECONFIG. ok is false when none is available.
func Config(kubeconfig string) (cfg *rest.Config, ok bool, err error) {
	if kubeconfig == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg, err = rest.InClusterConfig()
		return cfg, err == nil, err
	}
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	if kubeconfig == "" {
		return nil, false, nil
	}
	cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, false, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, true, nil
}

// Cache holds the watched objects.
type Cache struct {
	cache cache.Cache
	// reader answers the View methods: the cache itself, except in tests.
	reader client.Reader
	synced atomic.Bool

	// nodes is what Nodes last computed, kept while nodesChanged is unset: every
	// admission request asks, and listing every Node for each would cost
	// O(nodes) copies per request. Start sets nodesWatched and clears the memo
	// on every Node event; without it (tests) nothing is kept.
	nodes        atomic.Pointer[rules.Nodes]
	nodesChanged atomic.Bool
	nodesWatched atomic.Bool

	// stores are the informers' stores by kind, set by Start. The selecting
	// lists (WorkloadsSelected, BudgetsSelecting, …) filter a namespace's
	// objects where they are stored and copy only those they return: copying
	// every object of the namespace first, as a List does, cost one deep copy
	// per object per request, and per event of the audit. Without them
	// (tests, cluster views over a client) the lists read the reader.
	stores atomic.Pointer[map[string]toolscache.Indexer]
}

// namespaceMeta is a metadata-only Namespace: labels are all the webhook reads,
// and it keeps the cache small in clusters with many namespaces.
func namespaceMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

// Options change how New builds the cache; the webhook runs with the zero value.
type Options struct {
	// Transform, when set, replaces the slimming of every cached object (slim).
	// Only measurements set it: test/cachemem runs the cache once with the
	// transforms of before, to show what slimming saves.
	Transform toolscache.TransformFunc
}

// New builds the cache the webhook runs; Start fills it.
func New(cfg *rest.Config) (*Cache, error) {
	return NewWithOptions(cfg, Options{})
}

// NewWithOptions builds the cache with opts; Start fills it.
func NewWithOptions(cfg *rest.Config, opts Options) (*Cache, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	// The audit reads back the reports it wrote.
	if err := reportsv1alpha1.Install(scheme); err != nil {
		return nil, err
	}
	transform := opts.Transform
	if transform == nil {
		transform = slim
	}
	c, err := cache.New(rest.CopyConfig(cfg), cache.Options{
		Scheme:                      scheme,
		ReaderFailOnMissingInformer: true,
		DefaultTransform:            transform,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster cache: %w", err)
	}
	return &Cache{cache: c, reader: c}, nil
}

// Start registers the watches, runs them until ctx ends and marks the cache synced
// once every watch has listed.
func (c *Cache) Start(ctx context.Context) error {
	stores := map[string]toolscache.Indexer{}
	for _, obj := range []client.Object{namespaceMeta(), &appsv1.Deployment{}, &appsv1.StatefulSet{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}, &corev1.Node{},
		&corev1.Service{}, &networkingv1.IngressClass{}} {
		inf, err := c.cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
		if s, ok := inf.(interface{ GetIndexer() toolscache.Indexer }); ok {
			stores[kindOf(obj)] = s.GetIndexer()
		}
		if _, isNode := obj.(*corev1.Node); isNode {
			changed := func(any) { c.nodesChanged.Store(true) }
			if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
				AddFunc: changed, DeleteFunc: changed, UpdateFunc: func(_, o any) { changed(o) },
			}); err != nil {
				return fmt.Errorf("watch nodes: %w", err)
			}
			c.nodesWatched.Store(true)
		}
	}
	c.stores.Store(&stores)
	metrics.CacheObjects.Source(func() map[string]int { return storeSizes(stores) })
	errc := make(chan error, 1)
	go func() { errc <- c.cache.Start(ctx) }()
	if !c.cache.WaitForCacheSync(ctx) {
		if err := <-errc; err != nil {
			return err
		}
		return errors.New("cluster cache never synced")
	}
	c.synced.Store(true)
	return <-errc
}

// kindOf names a watched kind for the cache's object counts.
func kindOf(obj client.Object) string {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		return m.Kind
	}
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// storeSizes counts each store's objects (the laminar_ha_cluster_cache_objects metric).
func storeSizes(stores map[string]toolscache.Indexer) map[string]int {
	out := make(map[string]int, len(stores))
	for kind, s := range stores {
		out[kind] = len(s.ListKeys())
	}
	return out
}

// SyncedChecker is a readiness check: ready once every watch has listed.
func (c *Cache) SyncedChecker(_ *http.Request) error {
	if !c.synced.Load() {
		return errors.New("cluster cache not synced yet")
	}
	return nil
}

// Labels returns a namespace's labels; ok is false when it is not in the cache.
func (c *Cache) Labels(ctx context.Context, name string) (map[string]string, bool) {
	ns := namespaceMeta()
	if err := c.reader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return nil, false
	}
	return ns.Labels, true
}

// Nodes implements admit.NodeSource (rules.NodesOf), computed again only
// after a Node changed.
func (c *Cache) Nodes(ctx context.Context) rules.Nodes {
	if n := c.nodes.Load(); n != nil && c.nodesWatched.Load() && !c.nodesChanged.Load() {
		return *n
	}
	// Cleared before the list, so that a change during it is seen next time.
	c.nodesChanged.Store(false)
	var list corev1.NodeList
	if err := c.reader.List(ctx, &list); err != nil {
		c.nodesChanged.Store(true)
		return rules.Nodes{}
	}
	n := rules.NodesOf(list.Items)
	c.nodes.Store(&n)
	return n
}

// EnforcedSince implements admit.EnforcementHistory from the namespace's
// annotation. An unreadable value is the time it was read: whoever could
// write it (the annotation is guarded like the switch labels) gets no ratchet
// for older objects, rather than one for every object.
func (c *Cache) EnforcedSince(ctx context.Context, name string) (time.Time, bool) {
	ns := namespaceMeta()
	if err := c.reader.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return time.Time{}, false
	}
	v, ok := ns.Annotations[policy.AnnotationEnforcedSince]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Now(), true
	}
	return t, true
}

// Workload implements rules.View.
func (c *Cache) Workload(ctx context.Context, kind, namespace, name string) (*workload.Workload, bool) {
	var obj client.Object
	switch kind {
	case workload.KindDeployment:
		obj = &appsv1.Deployment{}
	case workload.KindStatefulSet:
		obj = &appsv1.StatefulSet{}
	default:
		return nil, false
	}
	// The stores hold workloads in their own form, which the reader cannot
	// hand out.
	if stores := c.stores.Load(); stores != nil {
		if store, ok := (*stores)[kind]; ok {
			o, exists, err := store.GetByKey(toolscache.NewObjectName(namespace, name).String())
			if err != nil || !exists {
				return nil, false
			}
			if obj, ok = typedCopy(o); !ok {
				return nil, false
			}
			return workload.FromObject(obj)
		}
	}
	if err := c.reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj); err != nil {
		return nil, false
	}
	return workload.FromObject(obj)
}

// scan calls each with every stored object of kind in namespace (every
// namespace when it is empty), in place: each must not change it. ok is false
// when there is no store to scan (Start has not run: tests, cluster views over
// a client), and the caller lists instead.
func (c *Cache) scan(kind, namespace string, each func(obj any)) (ok bool) {
	stores := c.stores.Load()
	if stores == nil {
		return false
	}
	store, ok := (*stores)[kind]
	if !ok {
		return false
	}
	var objs []any
	if namespace == "" {
		objs = store.List()
	} else {
		var err error
		if objs, err = store.ByIndex(toolscache.NamespaceIndex, namespace); err != nil {
			return false
		}
	}
	for _, o := range objs {
		each(o)
	}
	return true
}

// scanStored is scan over a kind kept in a stored form. A store holds typed
// objects of it only when a measurement replaced the transform
// (Options.Transform); they are put in the stored form as they are read.
func (c *Cache) scanStored(kind, namespace string, each func(s stored)) (ok bool) {
	return c.scan(kind, namespace, func(o any) {
		if s, ok := store(o); ok {
			each(s)
		}
	})
}

// WorkloadsSelected implements rules.View.
func (c *Cache) WorkloadsSelected(ctx context.Context, namespace string, sel labels.Selector) []*workload.Workload {
	var out []*workload.Workload
	add := func(obj client.Object) {
		if w, ok := workload.FromObject(obj); ok && sel.Matches(labels.Set(w.Template.Labels)) {
			out = append(out, w)
		}
	}
	// Matched in place; only the workloads returned are rebuilt.
	selected := func(s stored) {
		if kept, ok := s.(*storedWorkload); ok && sel.Matches(kept.podLabels) {
			if w, ok := workload.FromObject(kept.object()); ok {
				out = append(out, w)
			}
		}
	}
	if !c.scanStored("Deployment", namespace, selected) {
		var deps appsv1.DeploymentList
		if err := c.reader.List(ctx, &deps, client.InNamespace(namespace)); err == nil {
			for i := range deps.Items {
				add(&deps.Items[i])
			}
		}
	}
	if !c.scanStored("StatefulSet", namespace, selected) {
		var sets appsv1.StatefulSetList
		if err := c.reader.List(ctx, &sets, client.InNamespace(namespace)); err == nil {
			for i := range sets.Items {
				add(&sets.Items[i])
			}
		}
	}
	return out
}

// AutoscalersTargeting implements rules.View.
func (c *Cache) AutoscalersTargeting(ctx context.Context, namespace, kind, name string) []autoscalingv2.HorizontalPodAutoscaler {
	targets := func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
		ref := h.Spec.ScaleTargetRef
		return ref.Kind == kind && ref.Name == name
	}
	var out []autoscalingv2.HorizontalPodAutoscaler
	if c.scanStored("HorizontalPodAutoscaler", namespace, func(s stored) {
		if h, ok := s.(*storedAutoscaler); ok && h.target.Kind == kind && h.target.Name == name {
			out = append(out, *h.object().(*autoscalingv2.HorizontalPodAutoscaler))
		}
	}) {
		return out
	}
	var list autoscalingv2.HorizontalPodAutoscalerList
	if err := c.reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return slices.DeleteFunc(list.Items, func(h autoscalingv2.HorizontalPodAutoscaler) bool { return !targets(&h) })
}

// BudgetsSelecting implements rules.View.
func (c *Cache) BudgetsSelecting(ctx context.Context, namespace string, podLabels map[string]string) []policyv1.PodDisruptionBudget {
	selects := func(b *policyv1.PodDisruptionBudget) bool {
		// In policy/v1 an empty selector selects every pod in the namespace; a
		// missing one selects none.
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		return err == nil && sel.Matches(labels.Set(podLabels))
	}
	var out []policyv1.PodDisruptionBudget
	if c.scanStored("PodDisruptionBudget", namespace, func(s stored) {
		if b, ok := s.(*storedBudget); ok && b.selects(podLabels) {
			out = append(out, *b.object().(*policyv1.PodDisruptionBudget))
		}
	}) {
		return out
	}
	var list policyv1.PodDisruptionBudgetList
	if err := c.reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return slices.DeleteFunc(list.Items, func(b policyv1.PodDisruptionBudget) bool { return !selects(&b) })
}

// ServicesSelecting implements rules.View.
func (c *Cache) ServicesSelecting(ctx context.Context, namespace string, podLabels map[string]string) []corev1.Service {
	selects := func(s *corev1.Service) bool {
		sel, ok := rules.ServicePodSelector(s)
		return ok && sel.Matches(labels.Set(podLabels))
	}
	var out []corev1.Service
	if c.scan("Service", namespace, func(o any) {
		if s, ok := o.(*corev1.Service); ok && selects(s) {
			out = append(out, *s.DeepCopy())
		}
	}) {
		return out
	}
	var list corev1.ServiceList
	if err := c.reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	return slices.DeleteFunc(list.Items, func(s corev1.Service) bool { return !selects(&s) })
}

// Service implements rules.View.
func (c *Cache) Service(ctx context.Context, namespace, name string) (*corev1.Service, bool) {
	svc := &corev1.Service{}
	if err := c.reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, svc); err != nil {
		return nil, false
	}
	return svc, true
}

// IngressClass implements rules.View.
func (c *Cache) IngressClass(ctx context.Context, name string) (*networkingv1.IngressClass, bool) {
	class := &networkingv1.IngressClass{}
	if err := c.reader.Get(ctx, client.ObjectKey{Name: name}, class); err != nil {
		return nil, false
	}
	return class, true
}
