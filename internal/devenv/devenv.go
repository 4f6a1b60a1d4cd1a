// Package devenv runs Laminar's HA webhook against a real, local control plane:
// etcd and kube-apiserver started by envtest, the real laminar-ha-webhook binary
// as a subprocess, and the repository's own webhook configurations and Service
// from deploy/manifests, changed only so the API server reaches the local process.
//
// The e2e suite (test/e2e) and `make run` (hack/run) both use it.
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
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
	// ReadyTimeout bounds each wait (webhook /readyz, admission marker); zero means 60s.
	ReadyTimeout time.Duration
}

// Timings says how long each start-up step took.
type Timings struct {
	Build        time.Duration // go build of the webhook (0 when a binary was given)
	ControlPlane time.Duration // envtest: etcd + kube-apiserver
	Webhook      time.Duration // process start until /readyz
	Install      time.Duration // namespace, Service, webhook configurations
	Admission    time.Duration // until the API server's calls reach the webhook
	Total        time.Duration
}

func (t Timings) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("total %s (build %s, control plane %s, webhook %s, install %s, admission %s)",
		r(t.Total), r(t.Build), r(t.ControlPlane), r(t.Webhook), r(t.Install), r(t.Admission))
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

type webhookProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
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
	cpErr := e.startControlPlane()
	if err := <-buildErr; err != nil {
		return nil, err
	}
	if cpErr != nil {
		return nil, cpErr
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
	e.Timings.Total = time.Since(t0)
	e.logf("devenv: ready: %s", e.Timings)
	return e, nil
}

func (e *Env) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// resolvePaths finds the repository, the control-plane binaries and the work dir.
func (e *Env) resolvePaths() error {
	root := e.opts.RepoRoot
	if root == "" {
		var err error
		if root, err = FindRepoRoot(); err != nil {
			return err
		}
	}
	e.RepoRoot = root
	e.AssetsDir = AssetsDir(root, e.opts.AssetsDir)
	if err := CheckAssets(e.AssetsDir); err != nil {
		return err
	}
	e.KubectlPath = filepath.Join(e.AssetsDir, "kubectl")

	if e.opts.WebhookBinary != "" {
		b, err := filepath.Abs(e.opts.WebhookBinary)
		if err != nil {
			return err
		}
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("webhook binary: %w (run `make build`)", err)
		}
		e.WebhookBinary = b
	}

	if e.opts.WorkDir != "" {
		if err := os.MkdirAll(e.opts.WorkDir, 0o700); err != nil {
			return err
		}
		e.WorkDir = e.opts.WorkDir
	} else {
		d, err := os.MkdirTemp("", "laminar-devenv-")
		if err != nil {
			return err
		}
		e.WorkDir, e.ownsWorkDir = d, true
	}
	e.CertDir = filepath.Join(e.WorkDir, "certs")
	if err := os.MkdirAll(e.CertDir, 0o700); err != nil {
		return err
	}
	e.KubeconfigPath = e.opts.KubeconfigPath
	if e.KubeconfigPath == "" {
		e.KubeconfigPath = filepath.Join(e.WorkDir, "kubeconfig")
	}
	if abs, err := filepath.Abs(e.KubeconfigPath); err == nil {
		e.KubeconfigPath = abs
	}
	return nil
}

// FindRepoRoot walks up from the working directory to the directory whose go.mod
// declares github.com/laminar/ha-webhook.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/laminar/ha-webhook\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("devenv: not inside the github.com/laminar/ha-webhook repository")
		}
		dir = parent
	}
}

// AssetsDir picks the control-plane binary directory: explicit, else
// $KUBEBUILDER_ASSETS, else <root>/bin/k8s.
func AssetsDir(root, explicit string) string {
	if explicit != "" {
		return explicit
	}
	if v := os.Getenv("KUBEBUILDER_ASSETS"); v != "" {
		return v
	}
	return filepath.Join(root, "bin", "k8s")
}

// CheckAssets reports ErrNoControlPlane unless dir holds all three binaries.
func CheckAssets(dir string) error {
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%w: %s is missing", ErrNoControlPlane, filepath.Join(dir, b))
		}
	}
	return nil
}

func (e *Env) build(ctx context.Context, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/webhook")
	cmd.Dir = e.RepoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/webhook: %w\n%s", err, b)
	}
	return nil
}

func (e *Env) startControlPlane() error {
	start := time.Now()
	useExisting := false // never USE_EXISTING_CLUSTER: this installs webhooks
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: e.AssetsDir,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(e.AssetsDir, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(e.AssetsDir, "etcd")},
		},
		ControlPlaneStartTimeout: e.opts.ReadyTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	te.ControlPlane.KubectlPath = e.KubectlPath
	apiServerArgs := te.ControlPlane.APIServer.Configure()
	if err := e.enableAudit(func(name, value string) { apiServerArgs.Set(name, value) }); err != nil {
		return err
	}
	if w := e.opts.ControlPlaneOutput; w != nil {
		te.ControlPlane.APIServer.Out, te.ControlPlane.APIServer.Err = w, w
		te.ControlPlane.Etcd.Out, te.ControlPlane.Etcd.Err = w, w
	}
	e.testEnv = te
	e.logf("devenv: starting etcd and kube-apiserver from %s", e.AssetsDir)
	if _, err := te.Start(); err != nil {
		return fmt.Errorf("envtest: %w", err)
	}
	user, err := te.AddUser(envtest.User{Name: "devenv-admin", Groups: []string{"system:masters"}},
		&rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return fmt.Errorf("envtest: admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("envtest: kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(e.KubeconfigPath), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(e.KubeconfigPath, kc, 0o600); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	e.Config = user.Config()
	quiet := rest.CopyConfig(e.Config)
	quiet.WarningHandler = rest.NoWarnings{}
	if e.Client, err = client.New(quiet, client.Options{Scheme: scheme.Scheme}); err != nil {
		return err
	}
	e.Timings.ControlPlane = time.Since(start)
	e.logf("devenv: control plane up at %s in %s", e.Config.Host, e.Timings.ControlPlane.Round(time.Millisecond))
	return nil
}

// FreePorts reserves n distinct loopback ports and releases them for the caller.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startWebhookFirstTime writes the certificates, picks ports and starts the
// process, picking new ports if another process took one in between.
func (e *Env) startWebhookFirstTime(ctx context.Context) error {
	certs, err := NewCerts(ServiceHost, ServiceName+"."+Namespace, ServiceHost+".cluster.local", "localhost")
	if err != nil {
		return err
	}
	if err := certs.WriteServing(e.CertDir); err != nil {
		return err
	}
	e.Certs = certs
	if e.opts.WebhookOutput == nil {
		e.WebhookLogPath = filepath.Join(e.WorkDir, "webhook.log")
		if e.logFile, err = os.OpenFile(e.WebhookLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return err
		}
	}
	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(3)
		if err != nil {
			return err
		}
		e.WebhookPort, e.HealthPort, e.MetricsPort = ports[0], ports[1], ports[2]
		err = e.startWebhook(ctx)
		if err == nil || attempt == 3 || !errors.Is(err, errExited) {
			return err
		}
		e.logf("devenv: webhook exited during start-up (%v); retrying with new ports", err)
	}
}

var errExited = errors.New("webhook process exited")

// StartWebhook starts the webhook process again after StopWebhook, on the same
// ports and certificates, and waits until admission requests reach it.
func (e *Env) StartWebhook(ctx context.Context) error {
	if err := e.startWebhook(ctx); err != nil {
		return err
	}
	if e.installed {
		return e.WaitForAdmission(ctx)
	}
	return nil
}

func (e *Env) startWebhook(ctx context.Context) error {
	e.mu.Lock()
	if e.proc != nil {
		e.mu.Unlock()
		return errors.New("devenv: webhook already running")
	}
	args := []string{"serve",
		"--host", "127.0.0.1",
		"--port", strconv.Itoa(e.WebhookPort),
		"--cert-dir", e.CertDir,
		"--health-addr", "127.0.0.1:" + strconv.Itoa(e.HealthPort),
		"--metrics-addr", "127.0.0.1:" + strconv.Itoa(e.MetricsPort),
		"--log-format", "text",
		// Namespace labels (ha.laminar.io/enforce=warn) are read from this
		// control plane, never from whatever $KUBECONFIG the caller has.
		"--kubeconfig", e.KubeconfigPath,
	}
	args = append(args, e.opts.WebhookArgs...)
	cmd := exec.Command(e.WebhookBinary, args...)
	var out io.Writer = e.logFile
	if e.opts.WebhookOutput != nil {
		out = e.opts.WebhookOutput
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, like envtest's etcd and kube-apiserver: a Ctrl-C
	// at the terminal reaches only the parent, which stops it in order. And it
	// never outlives the parent, even if that one is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	e.logf("devenv: starting %s %s", e.WebhookBinary, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("start webhook: %w", err)
	}
	p := &webhookProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.proc = p
	e.mu.Unlock()

	if err := e.waitHealthy(ctx, p); err != nil {
		if errors.Is(err, errExited) {
			e.mu.Lock()
			e.proc = nil
			e.mu.Unlock()
		} else {
			_ = e.StopWebhook()
		}
		return err
	}
	return nil
}

// waitHealthy polls /readyz, which turns 200 once the TLS endpoint serves (and,
// with --kubeconfig, once the webhook's namespace cache has synced).
func (e *Env) waitHealthy(ctx context.Context, p *webhookProc) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ReadyTimeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", e.HealthPort)
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w before /readyz: %v%s", errExited, p.err, e.logTail())
		case <-ctx.Done():
			return fmt.Errorf("webhook /readyz at %s: %w%s", url, ctx.Err(), e.logTail())
		case <-tick.C:
		}
	}
}

func (e *Env) logTail() string {
	if e.WebhookLogPath == "" {
		return ""
	}
	data, err := os.ReadFile(e.WebhookLogPath)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return "\nwebhook log (tail):\n" + string(data)
}

// WebhookLog returns the webhook's log when it goes to a file, else "".
func (e *Env) WebhookLog() string {
	if e.WebhookLogPath == "" {
		return ""
	}
	data, _ := os.ReadFile(e.WebhookLogPath)
	return string(data)
}

// WebhookExited is closed when the current webhook process ends; nil when none runs.
func (e *Env) WebhookExited() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil {
		return nil
	}
	return e.proc.done
}

// StopWebhook ends the webhook process with SIGTERM (SIGKILL after 15s) and waits
// for it. It returns an error when the process did not exit cleanly.
func (e *Env) StopWebhook() error {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("webhook had already exited: %v", p.err)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("webhook exit after SIGTERM: %w", p.err)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("webhook ignored SIGTERM for 15s and was killed")
	}
}

// Stop ends the webhook, kube-apiserver and etcd, and removes the kubeconfig and
// a temporary work dir. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		var errs []error
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

// Kubectl runs bin/k8s/kubectl against this environment. stdin may be nil.
func (e *Env) Kubectl(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, e.KubectlPath, append([]string{"--kubeconfig", e.KubeconfigPath}, args...)...)
	cmd.Dir = e.RepoRoot
	cmd.Stdin = stdin
	var o, s strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &s
	err = cmd.Run()
	return o.String(), s.String(), err
}

// WaitForAdmission returns once the API server's admission calls demonstrably
// reach the webhook: a server-side dry-run create of a compliant laminar-api
// Deployment comes back with HA defaults filled in (mutation), and one with a
// single replica is denied with the webhook's [replicas-min] cause (validation).
// Nothing is stored. It polls until Options.ReadyTimeout.
func (e *Env) WaitForAdmission(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	mutated, denied := false, false
	var last error
	for {
		if !mutated {
			d := probeDeployment(3)
			err := e.Client.Create(ctx, d, client.DryRunAll)
			switch {
			case err != nil && ctx.Err() != nil:
				// the deadline; keep the last real answer for the report
			case err != nil:
				last = fmt.Errorf("mutation probe (a compliant Deployment must be admitted): %w", err)
			case d.Spec.Template.Spec.Containers[0].StartupProbe == nil:
				last = errors.New("mutation probe: admitted without HA defaults (mutating webhook not called yet)")
			default:
				mutated = true
			}
		}
		if mutated && !denied {
			err := e.Client.Create(ctx, probeDeployment(1), client.DryRunAll)
			if DeniedByRule(err, "replicas-min") {
				denied = true
			} else if ctx.Err() == nil {
				last = fmt.Errorf("validation probe: want a denial with [replicas-min], got: %v", err)
			}
		}
		if mutated && denied {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("admission requests do not reach the webhook: %w (last: %v)%s", ctx.Err(), last, e.logTail())
		case <-tick.C:
		}
	}
}

// DeniedByRule reports whether err is the webhook's Invalid error with a cause
// tagged [ruleID].
func DeniedByRule(err error, ruleID string) bool {
	var st *apierrors.StatusError
	if !errors.As(err, &st) || !apierrors.IsInvalid(err) || st.ErrStatus.Details == nil {
		return false
	}
	for _, c := range st.ErrStatus.Details.Causes {
		if strings.Contains(c.Message, "["+ruleID+"]") {
			return true
		}
	}
	return false
}

func probeDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "laminar-api"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "devenv-admission-probe", Namespace: ProbeNamespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "api", Image: "ghcr.io/laminar/laminar:devenv-probe",
				}}},
			},
		},
	}
}
