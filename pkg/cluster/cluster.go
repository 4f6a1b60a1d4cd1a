// Package cluster is the webhook's read-only view of the cluster: informer caches,
// filled by watches, so no admission request waits on an API call.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

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
	cache  cache.Cache
	synced atomic.Bool
}

// namespaceMeta is a metadata-only Namespace: labels are all the webhook reads,
// and it keeps the cache small in clusters with many namespaces.
func namespaceMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

// New builds the cache; Start fills it.
func New(cfg *rest.Config) (*Cache, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := cache.New(rest.CopyConfig(cfg), cache.Options{Scheme: scheme, ReaderFailOnMissingInformer: true})
	if err != nil {
		return nil, fmt.Errorf("cluster cache: %w", err)
	}
	return &Cache{cache: c}, nil
}

// Start registers the watches, runs them until ctx ends and marks the cache synced
// once every watch has listed.
func (c *Cache) Start(ctx context.Context) error {
	if _, err := c.cache.GetInformer(ctx, namespaceMeta()); err != nil {
		return fmt.Errorf("watch namespaces: %w", err)
	}
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
	if err := c.cache.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return nil, false
	}
	return ns.Labels, true
}
