package devenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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
	if e.opts.Cluster != nil {
		if err := CheckClusterAssets(e.AssetsDir); err != nil {
			return err
		}
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
	return checkExecutables(dir, "kube-apiserver", "etcd", "kubectl")
}

// CheckClusterAssets reports ErrNoControlPlane unless dir also holds what the
// simulated cluster runs: kube-scheduler, kube-controller-manager, kwok and
// kwok's stages.
func CheckClusterAssets(dir string) error {
	if err := checkExecutables(dir, "kube-scheduler", "kube-controller-manager", "kwok"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "kwok-stages.yaml")); err != nil {
		return fmt.Errorf("%w: %s is missing", ErrNoControlPlane, filepath.Join(dir, "kwok-stages.yaml"))
	}
	return nil
}

func checkExecutables(dir string, names ...string) error {
	for _, b := range names {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%w: %s is missing", ErrNoControlPlane, filepath.Join(dir, b))
		}
	}
	return nil
}
