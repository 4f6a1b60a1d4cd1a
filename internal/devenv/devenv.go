// Package devenv runs Laminar's HA webhook against a real, local control plane:
// etcd and kube-apiserver started by envtest, the real laminar-ha-webhook binary
// as a subprocess, and the repository's own webhook configurations and Service
// from deploy/manifests, changed only so the API server reaches the local process.
//
// The e2e suite (test/e2e) and `make run` (hack/run) both use it.
//
// With Options.Cluster the control plane becomes a simulated cluster:
// kube-scheduler, kube-controller-manager and kwok run beside it, kwok keeps
// fake Nodes Ready and marks their pods Running and Ready (there is no kubelet,
// no container runtime and no pod network), and a small provisioner gives
// claims of the policy's fast storage classes zonal volumes (zonal.go). So
// Deployments, ReplicaSets, StatefulSets, disruption budgets, evictions, node
// lifecycle and scheduling all run for real; see cluster.go.
//
// What differs from a cluster install, and only that:
//   - the Service becomes type ExternalName pointing at localhost, with the
//     webhook's local port; the API server resolves the webhook configurations'
//     Service reference to it and still verifies the serving certificate against
//     laminar-ha-webhook.laminar-ha-system.svc;
//   - each webhook's clientConfig.service.port is the local port and caBundle is
//     a CA generated for this run.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Names the manifests use.
const (
	Namespace   = "laminar-ha-system"
	ServiceName = "laminar-ha-webhook"
	ConfigName  = "laminar-ha-webhook"
	// ServiceHost is the name the API server verifies the serving certificate against.
	ServiceHost = ServiceName + "." + Namespace + ".svc"
	// ProbeNamespace is where the readiness marker's dry-run requests go.
	ProbeNamespace = metav1.NamespaceDefault
)

// ErrNoControlPlane means the kube-apiserver, etcd or kubectl binary is missing.
var ErrNoControlPlane = errors.New("control-plane binaries not found; run `make controlplane` (builds bin/k8s) or set KUBEBUILDER_ASSETS")

// Options configure Start. Every field is optional.
type Options struct {
	// RepoRoot is the module's root directory; empty finds it from the working directory.
	RepoRoot string
	// AssetsDir holds kube-apiserver, etcd and kubectl; empty means $KUBEBUILDER_ASSETS, else <repo>/bin/k8s.
	AssetsDir string
	// WebhookBinary is a built laminar-ha-webhook; empty builds ./cmd/webhook into WorkDir.
	WebhookBinary string
	// WebhookArgs are extra flags for `laminar-ha-webhook serve`, e.g. --log-level=debug.
	WebhookArgs []string
	// WebhookOutput receives the webhook's stdout and stderr; nil writes WorkDir/webhook.log.
	WebhookOutput io.Writer
	// ControlPlaneOutput receives etcd's and kube-apiserver's output; nil discards it.
	ControlPlaneOutput io.Writer
	// WorkDir holds the certificates, kubeconfig, log and built binary; empty
	// means a temporary directory that Stop removes.
	WorkDir string
	// KubeconfigPath is where the admin kubeconfig is written; empty means
	// WorkDir/kubeconfig. Stop removes the file.
	KubeconfigPath string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
	// ReadyTimeout bounds each wait (webhook /readyz, admission marker, cluster
	// components and nodes); zero means 60s.
	ReadyTimeout time.Duration
	// Cluster, when set, starts a simulated cluster (Env.Cluster); nil runs the
	// API server alone, which is all dry-run tests need, and starts faster.
	Cluster *ClusterOptions
}

// Timings says how long each start-up step took.
type Timings struct {
	Build        time.Duration // go build of the webhook (0 when a binary was given)
	ControlPlane time.Duration // envtest: etcd + kube-apiserver
	Webhook      time.Duration // process start until /readyz
	Install      time.Duration // namespace, Service, webhook configurations
	Admission    time.Duration // until the API server's calls reach the webhook
	Cluster      time.Duration // scheduler, controller manager and kwok: start until every node is Ready (0 without a cluster)
	Total        time.Duration
}

func (t Timings) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	s := fmt.Sprintf("total %s (build %s, control plane %s, webhook %s, install %s, admission %s",
		r(t.Total), r(t.Build), r(t.ControlPlane), r(t.Webhook), r(t.Install), r(t.Admission))
	if t.Cluster > 0 {
		s += ", cluster " + r(t.Cluster)
	}
	return s + ")"
}

// Env is a running control plane with the webhook installed.
type Env struct {
	RepoRoot  string
	AssetsDir string
	// Config is an admin (system:masters) client config; Client uses it.
	Config *rest.Config
	Client client.Client
	// KubeconfigPath is the same admin identity for kubectl.
	KubeconfigPath string
	KubectlPath    string
	WebhookBinary  string
	// WebhookLogPath is the webhook's log file when Options.WebhookOutput was nil.
	WebhookLogPath string
	// AuditLogPath is kube-apiserver's audit log (JSON lines), with the webhook's
	// audit annotations on every Laminar request.
	AuditLogPath string
	WorkDir      string
	CertDir      string
	Certs        *Certs
	// Local ports of the webhook's TLS endpoint, /healthz+/readyz and /metrics.
	WebhookPort, HealthPort, MetricsPort int
	Timings                              Timings
	// Cluster is the simulated cluster when Options.Cluster was set, else nil.
	Cluster *Cluster

	opts        Options
	ownsWorkDir bool
	testEnv     *envtest.Environment
	logFile     *os.File
	installed   bool

	mu   sync.Mutex
	proc *webhookProc

	stopOnce sync.Once
	stopErr  error
}

// Start brings up etcd, kube-apiserver and the webhook, installs the webhook
// configurations, and returns once the API server's admission calls reach the
// webhook. On error everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	t0 := time.Now()
	e := &Env{opts: opts}
	if e.opts.ReadyTimeout == 0 {
		e.opts.ReadyTimeout = 60 * time.Second
	}
	var cluster ClusterOptions
	if e.opts.Cluster != nil {
		if cluster, err = e.opts.Cluster.withDefaults(); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			_ = e.Stop()
		}
	}()
	if err := e.resolvePaths(); err != nil {
		return nil, err
	}

	// The webhook build and the control plane are independent; on two cores the
	// link step overlaps nicely with etcd and kube-apiserver starting.
	buildErr := make(chan error, 1)
	go func() {
		if e.WebhookBinary != "" {
			buildErr <- nil
			return
		}
		start := time.Now()
		e.WebhookBinary = filepath.Join(e.WorkDir, "laminar-ha-webhook")
		err := e.build(ctx, e.WebhookBinary)
		e.Timings.Build = time.Since(start)
		buildErr <- err
	}()
	cpErr := e.startControlPlane(cluster)
	if err := <-buildErr; err != nil {
		return nil, err
	}
	if cpErr != nil {
		return nil, cpErr
	}

	// The cluster's components start while the webhook starts and is
	// installed; Start waits for them last.
	clusterStart := time.Now()
	if e.opts.Cluster != nil {
		if err := e.startCluster(ctx, cluster); err != nil {
			return nil, err
		}
	}

	start := time.Now()
	if err := e.startWebhookFirstTime(ctx); err != nil {
		return nil, err
	}
	e.Timings.Webhook = time.Since(start)

	start = time.Now()
	if err := e.install(ctx); err != nil {
		return nil, err
	}
	e.Timings.Install = time.Since(start)

	start = time.Now()
	if err := e.WaitForAdmission(ctx); err != nil {
		return nil, err
	}
	e.Timings.Admission = time.Since(start)

	if e.Cluster != nil {
		if err := e.Cluster.waitReady(ctx); err != nil {
			return nil, err
		}
		e.Timings.Cluster = time.Since(clusterStart)
	}
	e.Timings.Total = time.Since(t0)
	e.logf("devenv: ready: %s", e.Timings)
	return e, nil
}

func (e *Env) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// Stop ends the simulated cluster, the webhook, kube-apiserver and etcd, and
// removes the kubeconfig and a temporary work dir. It is safe to call more than
// once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		var errs []error
		if e.Cluster != nil {
			start := time.Now()
			if err := e.Cluster.stop(); err != nil {
				errs = append(errs, err)
			}
			e.logf("devenv: cluster stopped in %s", time.Since(start).Round(time.Millisecond))
		}
		// The webhook goes first: it watches namespaces through kube-apiserver,
		// and kube-apiserver does not finish a graceful shutdown while a client
		// holds a watch open (envtest would wait out its stop timeout, then kill).
		start := time.Now()
		if err := e.StopWebhook(); err != nil {
			errs = append(errs, err)
		}
		e.logf("devenv: webhook stopped in %s", time.Since(start).Round(time.Millisecond))
		if e.testEnv != nil {
			start := time.Now()
			if err := e.testEnv.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("envtest stop: %w", err))
			}
			e.logf("devenv: etcd and kube-apiserver stopped in %s", time.Since(start).Round(time.Millisecond))
		}
		if e.logFile != nil {
			_ = e.logFile.Close()
		}
		if e.KubeconfigPath != "" {
			_ = os.Remove(e.KubeconfigPath)
		}
		if e.ownsWorkDir {
			_ = os.RemoveAll(e.WorkDir)
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}
