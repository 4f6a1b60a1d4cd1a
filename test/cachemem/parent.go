package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
	"github.com/laminar/ha-webhook/pkg/exempt"
)

const namespace = "cachemem"

func deploymentName(i int) string { return fmt.Sprintf("laminar-api-%05d", i) }

// parent runs the control plane, fills it and runs one child per case.
func parent(ctx context.Context, c Config, out, stderr io.Writer) error {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "cachemem: "+format+"\n", args...) }
	root, err := devenv.FindRepoRoot()
	if err != nil {
		return err
	}
	assets := devenv.AssetsDir(root, "")
	if err := devenv.CheckAssets(assets); err != nil {
		return fmt.Errorf("%w (build them once with make controlplane)", err)
	}
	tmp, err := os.MkdirTemp("", "laminar-cachemem-")
	if err != nil {
		return err
	}
	if c.Keep {
		logf("keeping %s", tmp)
	} else {
		defer func() { _ = os.RemoveAll(tmp) }()
	}

	useExisting := false // never a cluster USE_EXISTING_CLUSTER names: this fills it with objects
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: assets,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(assets, "etcd"), DataDir: filepath.Join(tmp, "etcd")},
		},
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	etcdArgs := te.ControlPlane.Etcd.Configure()
	// The objects alone are N × the annotation; etcd's default 2 GiB quota
	// would refuse writes at the size, and fsync only slows the
	// creates down, which are not what is measured.
	etcdArgs.Set("quota-backend-bytes", fmt.Sprint(int64(8)<<30))
	etcdArgs.Set("unsafe-no-fsync", "true")
	start := time.Now()
	if _, err := devenv.StartEnvtest(te, filepath.Join(tmp, "parentdeath")); err != nil {
		return fmt.Errorf("envtest: %w", err)
	}
	defer func() {
		if err := te.Stop(); err != nil {
			logf("stopping the control plane: %v", err)
		}
	}()
	user, err := te.AddUser(envtest.User{Name: "cachemem-admin", Groups: []string{"system:masters"}},
		&rest.Config{QPS: 1000, Burst: 2000})
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(tmp, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	logf("control plane up in %s", time.Since(start).Round(time.Millisecond))

	fmt.Fprintf(out, "machine: %s\n", machine())
	created, err := createDeployments(ctx, user.Config(), c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "objects: %d Deployments in namespace %s, each with a %s annotation (%d bytes of annotations per object), created in %s with %d in flight\n",
		c.N, namespace, humanBytes(c.Annotation), annotationBytes(c.Annotation), created.Round(time.Millisecond), c.Concurrency)

	var results []Result
	for _, k := range c.Cases {
		logf("case %s: starting the cache in a child process", k)
		r, err := runChild(ctx, c, k, kubeconfig, stderr)
		if err != nil {
			return fmt.Errorf("case %s: %w", k, err)
		}
		if r.Cached != c.N {
			return fmt.Errorf("case %s: the cache lists %d Deployments, not %d", k, r.Cached, c.N)
		}
		results = append(results, r)
	}
	printResults(out, c, results)
	return nil
}

// annotations are what every created Deployment carries: the large one, and
// an exemption the cache must keep.
func annotations(size int) map[string]string {
	return map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", size),
		exempt.AnnotationRules:                             "replicas-recommended",
		exempt.AnnotationReason:                            "cachemem measurement",
	}
}

func annotationBytes(size int) int {
	n := 0
	for k, v := range annotations(size) {
		n += len(k) + len(v)
	}
	return n
}

func createDeployments(ctx context.Context, cfg *rest.Config, c Config) (time.Duration, error) {
	cfg = rest.CopyConfig(cfg)
	// Protobuf is what the API server stores; it saves it decoding JSON.
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cl, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return 0, err
	}
	if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return 0, err
	}
	pods := map[string]string{"app": "laminar-api"}
	big := annotations(c.Annotation)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.Concurrency)
	for i := 0; i < c.N && gctx.Err() == nil; i++ {
		g.Go(func() error {
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: deploymentName(i), Namespace: namespace, Annotations: big},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](3),
					Selector: &metav1.LabelSelector{MatchLabels: pods},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: pods},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "laminar/api:1"}}},
					},
				},
			}
			if err := cl.Create(gctx, d); err != nil {
				return fmt.Errorf("create %s: %w", d.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return time.Since(start), err
	}
	return time.Since(start), ctx.Err()
}

// runChild re-executes this program to measure one case in a process of its own.
func runChild(ctx context.Context, c Config, k, kubeconfig string, stderr io.Writer) (Result, error) {
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, self, "-child", k, "-kubeconfig", kubeconfig, "-namespace", namespace,
		"-timeout", c.Timeout.String())
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	// The child dies with this process, whatever ends it.
	if err := parentdeath.Start(cmd); err != nil {
		return Result{}, err
	}
	if err := cmd.Wait(); err != nil {
		return Result{}, fmt.Errorf("child: %w", err)
	}
	s := bufio.NewScanner(&stdout)
	for s.Scan() {
		if line, ok := strings.CutPrefix(s.Text(), resultPrefix); ok {
			var r Result
			err := json.Unmarshal([]byte(line), &r)
			return r, err
		}
	}
	return Result{}, fmt.Errorf("child printed no result:\n%s", stdout.String())
}

func printResults(out io.Writer, c Config, rs []Result) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tsync\tRSS idle\tRSS synced\tRSS peak\theap live\theap in use\tannotations kept per object\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%s\t\n", r.Case, r.Sync.Round(time.Millisecond),
			mib(r.IdleRSS), mib(r.RSS), mib(r.PeakRSS), mib(r.HeapAlloc), mib(r.HeapInuse), humanBytes(r.AnnotationBytes))
	}
	_ = tw.Flush()
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s: RSS %.1f MiB (peak %.1f, idle %.1f), heap %.1f MiB, sync %s",
			r.Case, mib(r.RSS), mib(r.PeakRSS), mib(r.IdleRSS), mib(r.HeapAlloc), r.Sync.Round(time.Millisecond)))
	}
	ratio := ""
	if len(rs) == 2 && rs[1].RSS > 0 && rs[1].HeapAlloc > 0 {
		ratio = fmt.Sprintf("; %s/%s: RSS %.1fx, heap %.1fx", rs[0].Case, rs[1].Case,
			float64(rs[0].RSS)/float64(rs[1].RSS), float64(rs[0].HeapAlloc)/float64(rs[1].HeapAlloc))
	}
	fmt.Fprintf(out, "\nfigures: cluster cache, %d Deployments with a %s annotation: %s%s\n",
		c.N, humanBytes(c.Annotation), strings.Join(parts, "; "), ratio)
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
