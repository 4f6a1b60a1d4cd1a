package certmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"

	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	cmutil "github.com/cert-manager/cert-manager/pkg/util"

	// Issuer implementations register themselves with the issuers controller
	// and the CertificateRequest controllers.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// certManagerModule is the module whose controllers and CRDs this suite runs.
const certManagerModule = "github.com/cert-manager/cert-manager"

// controllers are the cert-manager controllers a self-signed -> CA -> serving
// certificate chain needs: the Issuer readiness loop, CertificateRequest
// approval and signing (selfSigned and CA issuers), and the Certificate
// lifecycle (trigger, key manager, request manager, issuing, readiness,
// revision manager). ACME, Vault, Venafi, ClusterIssuers and the
// ingress/gateway shims are not needed and not run.
var controllers = []string{
	issuers.ControllerName,
	crapprover.ControllerName,
	crselfsigned.CRControllerName,
	crca.CRControllerName,
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

// certManagerCRDDir finds deploy/crds of the cert-manager module this
// repository requires, in the module cache (downloading it when absent).
func certManagerCRDDir(root string) (string, error) {
	dir, err := goModDir(root, "list", "-m", "-json", certManagerModule)
	if err == nil && dir != "" {
		return filepath.Join(dir, "deploy", "crds"), nil
	}
	// Not downloaded yet (go list -m reports no Dir): fetch it.
	dir, err = goModDir(root, "mod", "download", "-json", certManagerModule)
	if err != nil {
		return "", err
	}
	if dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory", certManagerModule)
	}
	return filepath.Join(dir, "deploy", "crds"), nil
}

func goModDir(root string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go %v: %w\n%s", args, err, ee.Stderr)
		}
		return "", fmt.Errorf("go %v: %w", args, err)
	}
	var m struct {
		Dir     string
		Version string
		Error   *struct{ Err string }
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go %v: %w", args, err)
	}
	if m.Error != nil {
		return "", fmt.Errorf("go %v: %s", args, m.Error.Err)
	}
	return m.Dir, nil
}

// certManager runs cert-manager's controllers and its CA injector in this
// process, against the test API server.
type certManager struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	shutdown []func()
	mu       sync.Mutex
	errs     []error
}

func (c *certManager) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

// startCertManager starts the controllers and the CA injector. kubeconfig must
// be a file: with none, cert-manager falls back to the in-cluster config.
func startCertManager(parent context.Context, kubeconfig string, cfg *rest.Config) (*certManager, error) {
	ctx, cancel := context.WithCancel(parent)
	cm := &certManager{cancel: cancel}
	ok := false
	defer func() {
		if !ok {
			_ = cm.stop()
		}
	}()

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   1000,
		KubernetesAPIBurst: 2000,
		CertificateOptions: controllerpkg.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: time.Second,
			CertificateRequestMaximumBackoffDuration: 5 * time.Second,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cert-manager context: %w", err)
	}
	known := controllerpkg.Known()
	for _, name := range controllers {
		construct, found := known[name]
		if !found {
			return nil, fmt.Errorf("cert-manager controller %q is not registered (have %v)", name, sortedKeys(known))
		}
		c, err := construct(factory)
		if err != nil {
			return nil, fmt.Errorf("cert-manager controller %s: %w", name, err)
		}
		cm.wg.Go(func() {
			if err := c.Run(2, ctx); err != nil && ctx.Err() == nil {
				cm.fail(fmt.Errorf("cert-manager controller %s: %w", name, err))
			}
		})
	}
	// The controllers have asked for their informers by now; start them.
	informers, err := factory.Build("informers")
	if err != nil {
		return nil, fmt.Errorf("cert-manager informers context: %w", err)
	}
	informers.KubeSharedInformerFactory.Start(ctx.Done())
	informers.SharedInformerFactory.Start(ctx.Done())
	// Shutdown waits for the informers' goroutines once ctx is cancelled.
	cm.shutdown = append(cm.shutdown, informers.KubeSharedInformerFactory.Shutdown, informers.SharedInformerFactory.Shutdown)

	mgr, err := newCAInjector(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cm.wg.Go(func() {
		if err := mgr.Start(ctx); err != nil && ctx.Err() == nil {
			cm.fail(fmt.Errorf("cainjector: %w", err))
		}
	})
	ok = true
	return cm, nil
}

// newCAInjector builds cainjector as cert-manager's cmd/cainjector does, for
// the two webhook configuration kinds and the Certificate data source.
func newCAInjector(ctx context.Context, cfg *rest.Config) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	// The injector applies caBundle with server-side apply; its field manager is
	// taken from the user agent.
	restConfig := cmutil.RestConfigWithUserAgent(cfg, "cainjector")
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  ctrlcache.Options{ReaderFailOnMissingInformer: true},
		Client: ctrlclient.Options{Cache: &ctrlclient.CacheOptions{DisableFor: []ctrlclient.Object{&corev1.Secret{}}}},
		// No metrics or health listeners: nothing scrapes them here.
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		return nil, fmt.Errorf("cainjector manager: %w", err)
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cainjector: %w", err)
	}
	return mgr, nil
}

// stop cancels every controller and waits for all of them to return, so none
// still talks to the API server when it is stopped.
func (c *certManager) stop() error {
	c.cancel()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		for _, f := range c.shutdown {
			f()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.fail(errors.New("cert-manager controllers did not stop within 30s"))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

// err reports controller failures so far.
func (c *certManager) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
