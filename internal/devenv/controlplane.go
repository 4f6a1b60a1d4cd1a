package devenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// startControlPlane starts etcd and kube-apiserver (with an audit log, and the
// simulated cluster's flags when Options.Cluster is set), and writes the admin
// kubeconfig.
func (e *Env) startControlPlane(cluster ClusterOptions) error {
	start := time.Now()
	useExisting := false // never USE_EXISTING_CLUSTER: this installs webhooks
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: e.AssetsDir,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(e.AssetsDir, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(e.AssetsDir, "etcd")},
		},
		// The audit writes OpenReports Reports; the CRD is the one the install ships.
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              []string{filepath.Join(e.RepoRoot, "deploy", "manifests", "openreports.io_reports.yaml")},
			ErrorIfPathMissing: true,
		},
		ControlPlaneStartTimeout: e.opts.ReadyTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	te.ControlPlane.KubectlPath = e.KubectlPath
	apiServerArgs := te.ControlPlane.APIServer.Configure()
	if err := e.enableAudit(func(name, value string) { apiServerArgs.Set(name, value) }); err != nil {
		return err
	}
	if e.opts.Cluster != nil {
		for name, value := range cluster.apiServerFlags() {
			apiServerArgs.Set(name, value)
		}
	}
	if w := e.opts.ControlPlaneOutput; w != nil {
		te.ControlPlane.APIServer.Out, te.ControlPlane.APIServer.Err = w, w
		te.ControlPlane.Etcd.Out, te.ControlPlane.Etcd.Err = w, w
	}
	e.testEnv = te
	e.logf("devenv: starting etcd and kube-apiserver from %s", e.AssetsDir)
	if _, err := StartEnvtest(te, filepath.Join(e.WorkDir, "parentdeath")); err != nil {
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

// StartEnvtest is te.Start, except that etcd and kube-apiserver die with this
// process even when it is SIGKILLed, as envtest's own Stop would never run.
// envtest offers no way to set their SysProcAttr, so each binary is replaced by
// a parentdeath wrapper script written to wrapperDir, and te.Start runs on
// parentdeath's forking thread. te.ControlPlane must name both binaries' paths.
func StartEnvtest(te *envtest.Environment, wrapperDir string) (*rest.Config, error) {
	cp := &te.ControlPlane
	if cp.Etcd == nil || cp.Etcd.Path == "" || cp.APIServer == nil || cp.APIServer.Path == "" {
		return nil, errors.New("devenv: envtest needs ControlPlane.Etcd.Path and ControlPlane.APIServer.Path")
	}
	etcd, err := parentdeath.Wrap(wrapperDir, cp.Etcd.Path)
	if err != nil {
		return nil, err
	}
	apiServer, err := parentdeath.Wrap(wrapperDir, cp.APIServer.Path)
	if err != nil {
		return nil, err
	}
	cp.Etcd.Path, cp.APIServer.Path = etcd, apiServer
	var cfg *rest.Config
	err = parentdeath.Do(func() (err error) {
		cfg, err = te.Start()
		return err
	})
	return cfg, err
}
