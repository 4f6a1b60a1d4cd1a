package certmanager

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	cmclient "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// suite is the control plane, cert-manager and the built webhook every test uses.
var suite *suiteEnv

type suiteEnv struct {
	Root, Assets, WorkDir string
	Kubectl               string
	// Helm is bin/helm (`make helm`).
	Helm string
	// Kubeconfig is an admin (system:masters) kubeconfig file; Config the same.
	Kubeconfig string
	Config     *rest.Config
	Client     ctrlclient.Client // built-in kinds and cert-manager's
	Kube       kubernetes.Interface
	CM         cmclient.Interface
	Scheme     *runtime.Scheme

	// Binary is laminar-ha-webhook built by the Dockerfile's go build command.
	Binary string
	Build  *dockerBuild

	testEnv     *envtest.Environment
	certManager *certManager
	logPath     string
	timings     []string
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	t0 := time.Now()
	root, err := devenv.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certmanager:", err)
		return 1
	}
	assets := devenv.AssetsDir(root, "")
	if err := devenv.CheckAssets(assets); err != nil {
		// Never skip: a green run must mean the install was exercised.
		fmt.Fprintf(os.Stderr, `certmanager: FAIL: %v

This suite needs a real kube-apiserver, etcd and kubectl. Build them once with

    make controlplane

(or point KUBEBUILDER_ASSETS at a directory holding them), then run

    make test
`, err)
		return 1
	}
	work := os.Getenv("CERTMANAGER_WORK_DIR") // set it to keep the logs
	keep := work != ""
	if keep {
		err = os.MkdirAll(work, 0o700)
	} else {
		work, err = os.MkdirTemp("", "laminar-certmanager-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "certmanager:", err)
		return 1
	}
	if !keep {
		defer func() { _ = os.RemoveAll(work) }()
	}

	s := &suiteEnv{Root: root, Assets: assets, WorkDir: work, Kubectl: filepath.Join(assets, "kubectl"), Helm: filepath.Join(root, "bin", "helm")}
	if _, err := os.Stat(s.Helm); err != nil {
		fmt.Fprintf(os.Stderr, "certmanager: FAIL: %v\n\nThe chart's install runs real Helm: build it once with `make helm`.\n", err)
		return 1
	}
	suite = s
	stopLogs, err := s.redirectLogs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certmanager:", err)
		return 1
	}
	defer stopLogs()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "certmanager: FAIL: cannot start the environment:", err)
		fmt.Fprint(os.Stderr, s.logTail())
		if err := s.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "certmanager: stopping:", err)
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "certmanager: environment ready in %s (%s)\n",
		time.Since(t0).Round(time.Millisecond), strings.Join(s.timings, ", "))

	start := time.Now()
	code := m.Run()
	fmt.Fprintf(os.Stderr, "certmanager: tests took %s\n", time.Since(start).Round(time.Millisecond))
	if err := s.certManager.err(); err != nil {
		fmt.Fprintln(os.Stderr, "certmanager: FAIL: cert-manager:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprint(os.Stderr, s.logTail())
	}
	start = time.Now()
	if err := s.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "certmanager: FAIL: stopping the environment:", err)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "certmanager: environment stopped in %s; total %s\n",
		time.Since(start).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	return code
}

// redirectLogs sends cert-manager's (klog) and controller-runtime's logs to a
// file in the work dir; its tail is printed when something fails.
func (s *suiteEnv) redirectLogs() (func(), error) {
	s.logPath = filepath.Join(s.WorkDir, "cert-manager.log")
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(f, "%s %s %s\n", time.Now().Format("15:04:05.000"), prefix, args)
	}, funcr.Options{Verbosity: 2})
	klog.SetLogger(logger)
	ctrllog.SetLogger(logger)
	return func() {
		klog.SetLogger(logr.Discard())
		ctrllog.SetLogger(logr.Discard())
		mu.Lock()
		defer mu.Unlock()
		_ = f.Close()
	}, nil
}

func (s *suiteEnv) logTail() string {
	var b strings.Builder
	for _, p := range []string{s.logPath} {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > 6000 {
			data = data[len(data)-6000:]
		}
		fmt.Fprintf(&b, "--- %s (tail)\n%s\n", filepath.Base(p), data)
	}
	return b.String()
}

func (s *suiteEnv) timing(what string, since time.Time) {
	s.timings = append(s.timings, fmt.Sprintf("%s %s", what, time.Since(since).Round(time.Millisecond)))
}

// start builds the webhook (with the Dockerfile's flags) while etcd,
// kube-apiserver and cert-manager's CRDs come up, then starts cert-manager.
func (s *suiteEnv) start(ctx context.Context) error {
	buildErr := make(chan error, 1)
	go func() {
		start := time.Now()
		b, err := parseDockerfileBuild(filepath.Join(s.Root, "Dockerfile"))
		if err == nil {
			s.Build = b
			s.Binary = filepath.Join(s.WorkDir, "laminar-ha-webhook")
			err = b.run(ctx, s.Root, s.Binary)
		}
		s.timing("webhook build", start)
		buildErr <- err
	}()
	cpErr := s.startControlPlane()
	if err := <-buildErr; err != nil {
		return err
	}
	if cpErr != nil {
		return cpErr
	}
	start := time.Now()
	cm, err := startCertManager(ctx, s.Kubeconfig, s.Config)
	if err != nil {
		return err
	}
	s.certManager = cm
	s.timing("cert-manager start", start)
	return nil
}

func (s *suiteEnv) startControlPlane() error {
	start := time.Now()
	crds, err := certManagerCRDDir(s.Root)
	if err != nil {
		return err
	}
	useExisting := false
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: s.Assets,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(s.Assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(s.Assets, "etcd")},
		},
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              []string{crds},
			ErrorIfPathMissing: true,
		},
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	te.ControlPlane.KubectlPath = s.Kubectl
	s.testEnv = te
	// etcd and kube-apiserver die with this process, even when it is SIGKILLed.
	if _, err := devenv.StartEnvtest(te, filepath.Join(s.WorkDir, "parentdeath")); err != nil {
		return fmt.Errorf("envtest: %w", err)
	}
	user, err := te.AddUser(envtest.User{Name: "certmanager-admin", Groups: []string{"system:masters"}},
		&rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return fmt.Errorf("envtest: admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	s.Kubeconfig = filepath.Join(s.WorkDir, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kc, 0o600); err != nil {
		return err
	}
	s.Config = user.Config()
	s.Scheme = runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(s.Scheme))
	utilruntime.Must(cmscheme.AddToScheme(s.Scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(s.Scheme))
	if s.Client, err = ctrlclient.New(s.Config, ctrlclient.Options{Scheme: s.Scheme}); err != nil {
		return err
	}
	if s.Kube, err = kubernetes.NewForConfig(s.Config); err != nil {
		return err
	}
	if s.CM, err = cmclient.NewForConfig(s.Config); err != nil {
		return err
	}
	s.timing("control plane + CRDs", start)
	return nil
}

// stop ends cert-manager (waiting for every controller) and then the control plane.
func (s *suiteEnv) stop() error {
	var errs []error
	if s.certManager != nil {
		if err := s.certManager.stop(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if s.testEnv != nil {
		if err := s.testEnv.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("envtest stop: %w", err))
		}
	}
	return errors.Join(errs...)
}

// kubectl runs bin/k8s/kubectl with the admin kubeconfig from the repository root.
func (s *suiteEnv) kubectl(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	return runCmd(ctx, s.Root, stdin, nil, s.Kubectl, append([]string{"--kubeconfig", s.Kubeconfig}, args...)...)
}
