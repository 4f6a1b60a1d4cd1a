package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

// Kyverno's admission controller, run out of cluster against the e2e phase's
// API server, as its DEVELOPMENT.md ("Debugging local code") and
// .vscode/launch.json describe: the CRDs from its module, its namespace and
// ConfigMaps, and the binary with --kubeconfig and --serverIP, which makes it
// register its webhooks by URL (https://127.0.0.1:PORT/...) with the CA it
// generates into the --caSecretName Secret. Its ConfigMap's webhooks key
// confines its resource webhooks to namespaces labelled perf.laminar.io/kyverno=on.

const (
	kyvernoLabel     = "perf.laminar.io/kyverno"
	kyvernoNamespace = "kyverno"
	// KyvernoModule is the module tools/kyverno pins; its CRDs are installed.
	KyvernoModule = "github.com/kyverno/kyverno"
	// DefaultKyvernoPolicy is the ClusterPolicy written here (relative to the repository root).
	DefaultKyvernoPolicy = "test/load/peers/kyverno-policy.yaml"
)

// kyvernoCRDDirs are the CRD directories of Kyverno's module that its admission
// controller needs.
var kyvernoCRDDirs = []string{"config/crds/kyverno", "config/crds/policies.kyverno.io", "config/crds/reports", "config/crds/policyreport"}

// KyvernoModuleDir is where the module cache holds the Kyverno version that
// tools/kyverno pins (the one bin/kyverno is built from).
func KyvernoModuleDir(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", KyvernoModule)
	cmd.Dir = filepath.Join(root, "tools", "kyverno")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list -m %s in tools/kyverno: %w\n%s", KyvernoModule, err, ee.Stderr)
		}
		return "", fmt.Errorf("go list -m %s in tools/kyverno: %w", KyvernoModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s in tools/kyverno: the module is not in the module cache (run make kyverno)", KyvernoModule)
	}
	return dir, nil
}

// ReadKyvernoPolicy reads a ClusterPolicy file: one kyverno.io/v1 ClusterPolicy
// with at least one rule.
func ReadKyvernoPolicy(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetAPIVersion() != "kyverno.io/v1" || u.GetKind() != "ClusterPolicy" {
		return nil, fmt.Errorf("%s: want a kyverno.io/v1 ClusterPolicy, got %s %s", path, u.GetAPIVersion(), u.GetKind())
	}
	if u.GetName() == "" {
		return nil, fmt.Errorf("%s: the ClusterPolicy has no name", path)
	}
	rules, err := KyvernoRuleNames(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s: the ClusterPolicy has no rules", path)
	}
	return u, nil
}

// KyvernoRuleNames lists a ClusterPolicy's rule names, in order.
func KyvernoRuleNames(u *unstructured.Unstructured) ([]string, error) {
	rules, found, err := unstructured.NestedSlice(u.Object, "spec", "rules")
	if err != nil || !found {
		return nil, fmt.Errorf("spec.rules: not a list (%v)", err)
	}
	var names []string
	for i, r := range rules {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.rules[%d]: not an object", i)
		}
		name, _ := m["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("spec.rules[%d]: no name", i)
		}
		names = append(names, name)
	}
	return names, nil
}

// kyvernoArgs are the admission controller's flags for an out-of-cluster run on
// the given loopback ports.
func kyvernoArgs(kubeconfig string, webhookPort, metricsPort int) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		// Registers the webhooks by URL; the serving certificate names this address.
		"--serverIP=127.0.0.1:" + strconv.Itoa(webhookPort),
		"--webhookServerHost=127.0.0.1",
		"--webhookServerPort=" + strconv.Itoa(webhookPort),
		"--metricsHost=127.0.0.1",
		"--metricsPort=" + strconv.Itoa(metricsPort),
		"--controllerRuntimeMetricsAddress=0",
		"--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
		"--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
		"--backgroundServiceAccountName=system:serviceaccount:kyverno:kyverno-background-controller",
		"--reportsServiceAccountName=system:serviceaccount:kyverno:kyverno-reports-controller",
		// Keep report and event writes out of the timing: ours writes neither
		// on the admission path.
		"--admissionReports=false",
		"--omitEvents=PolicyApplied,PolicyViolation,PolicySkipped,PolicyError",
		"--loggingFormat=json",
		"-v=1",
	}
}

// kyvernoEnv is the environment launch.json gives the admission controller.
var kyvernoEnv = []string{
	"KYVERNO_NAMESPACE=" + kyvernoNamespace,
	"KYVERNO_SERVICEACCOUNT_NAME=kyverno-admission-controller",
	"KYVERNO_DEPLOYMENT=kyverno-admission-controller",
	"KYVERNO_POD_NAME=kyverno-admission-controller-local",
	"INIT_CONFIG=kyverno",
	"METRICS_CONFIG=kyverno-metrics",
}

// installKyverno installs Kyverno's CRDs, namespace and ConfigMaps, starts its
// admission controller, creates the ClusterPolicy and waits until a dry-run
// create of a single-replica api Deployment in ns is denied by it.
func installKyverno(ctx context.Context, env *devenv.Env, tmp, binary, policyPath, ns string, probe client.Object, logf func(string, ...any)) (*Process, error) {
	start := time.Now()
	policy, err := ReadKyvernoPolicy(policyPath)
	if err != nil {
		return nil, err
	}
	modDir, err := KyvernoModuleDir(ctx, env.RepoRoot)
	if err != nil {
		return nil, err
	}
	args := []string{"apply", "--server-side"}
	for _, d := range kyvernoCRDDirs {
		args = append(args, "-f", filepath.Join(modDir, d))
	}
	if _, stderr, err := env.Kubectl(ctx, nil, args...); err != nil {
		return nil, fmt.Errorf("Kyverno CRDs from %s: %w\n%s", modDir, err, stderr)
	}
	wait := []string{"wait", "--for=condition=Established", "--timeout=60s"}
	for _, d := range kyvernoCRDDirs {
		wait = append(wait, "-f", filepath.Join(modDir, d))
	}
	if _, stderr, err := env.Kubectl(ctx, nil, wait...); err != nil {
		return nil, fmt.Errorf("Kyverno CRDs not established: %w\n%s", err, stderr)
	}
	if _, err := createNamespace(ctx, env, kyvernoNamespace, nil); err != nil {
		return nil, err
	}
	webhooks := fmt.Sprintf(`{"namespaceSelector":{"matchLabels":{%q:"on"}}}`, kyvernoLabel)
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "kyverno", Namespace: kyvernoNamespace}, Data: map[string]string{"webhooks": webhooks}},
		{ObjectMeta: metav1.ObjectMeta{Name: "kyverno-metrics", Namespace: kyvernoNamespace}},
	} {
		if err := env.Client.Create(ctx, cm); err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
	}
	p, err := startKyverno(binary, env.KubeconfigPath, filepath.Join(tmp, "kyverno.log"))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Process, error) {
		p.Stop()
		return nil, err
	}
	if err := env.Client.Create(ctx, policy); err != nil {
		return fail(fmt.Errorf("ClusterPolicy: %w", err))
	}
	// Kyverno takes its lease, generates its certificates, registers its
	// webhooks and loads the policy: wait until the API server's calls reach it
	// and it denies.
	deadline := time.Now().Add(3 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fail(fmt.Errorf("kyverno exited: %v\n%s", p.err, p.LogTail()))
		}
		obj := probe.DeepCopyObject().(client.Object)
		obj.SetNamespace(ns)
		obj.SetName("kyverno-probe")
		if d, ok := obj.(*appsv1.Deployment); ok {
			d.Spec.Replicas = ptr.To[int32](1)
		}
		err := env.Client.Create(ctx, obj, client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "[replicas-min]") {
			logf("load: e2e: kyverno %s (pid %d) enforces %s after %s", binaryVersion(binary), p.PID(), policy.GetName(), time.Since(start).Round(time.Millisecond))
			return p, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fail(fmt.Errorf("kyverno does not deny a single-replica api Deployment after 3m (last answer: %v)\n%s", last, p.LogTail()))
}

// startKyverno runs the admission controller on free loopback ports.
func startKyverno(binary, kubeconfig, logPath string) (*Process, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, kyvernoArgs(kubeconfig, ports[0], ports[1])...)
	cmd.Env = append(withoutCluster(os.Environ()), kyvernoEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := parentdeath.Start(cmd); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start kyverno: %w", err)
	}
	p := &Process{Name: "kyverno", cmd: cmd, done: make(chan struct{}), Port: ports[0], MetricsPort: ports[1], LogPath: logPath, log: logFile}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// checkKyvernoBinary fails clearly when the given binary cannot be run.
func checkKyvernoBinary(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("-kyverno-binary: %w (make kyverno builds bin/kyverno)", err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("-kyverno-binary %s: not an executable file", path)
	}
	return nil
}

// binaryVersion is the main module's version stamped into a Go binary.
func binaryVersion(path string) string {
	out, err := exec.Command("go", "version", "-m", path).Output()
	if err != nil {
		return "(unknown version)"
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// "mod" when the binary is built from the module itself, "dep" from a tools module.
		if len(f) >= 3 && (f[0] == "dep" || f[0] == "mod") && f[1] == KyvernoModule {
			return f[2]
		}
	}
	return "(unknown version)"
}

// kyvernoRun is the running admission controller and the namespace its
// webhooks select.
type kyvernoRun struct {
	*Process
	namespace string
}

// kyvernoPhase starts Kyverno for the e2e phase and runs the verdict check: an
// error, with the check printed, when Kyverno does not reach our verdicts.
func kyvernoPhase(ctx context.Context, c Config, env *devenv.Env, tmp string, off map[string]string, nsOurs string, probe client.Object, out io.Writer, logf func(string, ...any)) (*kyvernoRun, error) {
	if err := checkKyvernoBinary(c.KyvernoBinary); err != nil {
		return nil, err
	}
	ns, err := createNamespace(ctx, env, "perf-kyverno", offAnd(off, kyvernoLabel))
	if err != nil {
		return nil, err
	}
	// Our validating webhook alone, for what Kyverno admits.
	nsValidate, err := createNamespace(ctx, env, "perf-validate", map[string]string{"ha.laminar.io/mutate": "off"})
	if err != nil {
		return nil, err
	}
	policy := c.KyvernoPolicy
	if !filepath.IsAbs(policy) {
		policy = filepath.Join(c.RepoRoot, policy)
	}
	logf("load: e2e: starting kyverno (%s) with %s", c.KyvernoBinary, policy)
	p, err := installKyverno(ctx, env, tmp, c.KyvernoBinary, policy, ns, probe, logf)
	if err != nil {
		return nil, err
	}
	objs, err := VerdictObjects(c.RepoRoot)
	if err != nil {
		p.Stop()
		return nil, err
	}
	rows, err := verdictCheck(ctx, env, objs, nsOurs, ns, nsValidate)
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("verdict check: %w", err)
	}
	fmt.Fprintf(out, "\nkyverno %s, out of cluster (--serverIP), ClusterPolicy %s\n", binaryVersion(c.KyvernoBinary), c.KyvernoPolicy)
	if err := PrintVerdicts(out, rows); err != nil {
		p.Stop()
		return nil, err
	}
	if err := CompareVerdicts(rows); err != nil {
		p.Stop()
		return nil, err
	}
	return &kyvernoRun{Process: p, namespace: ns}, nil
}

// metrics reads Kyverno's /metrics (plain HTTP on loopback).
func (k *kyvernoRun) metrics() (string, error) {
	u := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(k.MetricsPort)), Path: "/metrics"}
	resp, err := http.Get(u.String())
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return string(body), err
}
