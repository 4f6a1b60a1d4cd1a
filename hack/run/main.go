// Command run is `make run`: a local etcd + kube-apiserver with the webhook
// binary (bin/laminar-ha-webhook) installed through deploy/manifests, so the
// examples can be tried with the real kubectl, and by default a simulated
// cluster around them (kube-scheduler, kube-controller-manager, kwok and six
// fake nodes over three zones), so applied examples really run. Ctrl-C stops
// everything.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/laminar/ha-webhook/internal/devenv"
)

func main() {
	os.Exit(run())
}

func run() int {
	// Our own flag set: controller-runtime registers --kubeconfig on the global one.
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	webhookBin := fs.String("webhook-bin", "bin/laminar-ha-webhook", "webhook binary, built by make build; empty builds ./cmd/webhook")
	kubeconfig := fs.String("kubeconfig", ".cache/run/kubeconfig", "where to write the admin kubeconfig (removed on exit)")
	logLevel := fs.String("log-level", "info", "webhook log level: info or debug")
	policy := fs.String("policy", "", "webhook policy file (empty: the HA guide's defaults)")
	quietCP := fs.Bool("quiet", true, "hide etcd, kube-apiserver and the cluster components' output")
	clusterName := fs.String("cluster", "three-zones", "simulated cluster: three-zones (6 nodes), one-zone, no-zones (no zone labels), two-nodes, or none (API server only)")
	_ = fs.Parse(os.Args[1:])

	// envtest logs through controller-runtime; its start-up retries are noise here.
	ctrllog.SetLogger(logr.Discard())

	root, err := devenv.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	// Defaults are relative to the repository, flags given relative to the
	// working directory; the example commands printed below are run from the root.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	path := func(name, v string) string {
		if v == "" {
			return ""
		}
		if !set[name] {
			return filepath.Join(root, v)
		}
		abs, err := filepath.Abs(v)
		if err != nil {
			return v
		}
		return abs
	}
	*webhookBin = path("webhook-bin", *webhookBin)
	*kubeconfig = path("kubeconfig", *kubeconfig)
	args := []string{"--log-level=" + *logLevel}
	if *policy != "" {
		args = append(args, "--policy="+path("policy", *policy))
	}
	if err := os.Chdir(root); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	var cpOut io.Writer
	if !*quietCP {
		cpOut = os.Stderr
	}
	var cluster *devenv.ClusterOptions
	if *clusterName != "none" {
		if cluster, err = devenv.ClusterPreset(*clusterName); err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
			return 1
		}
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nrun: %v: shutting down ...\n", s)
		cancel()
		// Later signals must not kill this process half-way: etcd, kube-apiserver
		// and the webhook run in their own process groups, so a Ctrl-C reaches only
		// this process, which stops them in order and removes its temporary files.
		// (Were it killed, they would die with it, unordered: internal/parentdeath.)
		for s := range sigs {
			fmt.Fprintf(os.Stderr, "run: %v: still shutting down, please wait\n", s)
		}
	}()

	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	env, err := devenv.Start(ctx, devenv.Options{
		RepoRoot:           root,
		WebhookBinary:      *webhookBin,
		WebhookArgs:        args,
		WebhookOutput:      os.Stderr, // stream the webhook's log
		ControlPlaneOutput: cpOut,
		WorkDir:            "", // certificates in a temp dir, removed on exit
		KubeconfigPath:     *kubeconfig,
		Logf:               logf,
		Cluster:            cluster,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}

	kubectl := rel(root, env.KubectlPath)
	fmt.Printf(`
Laminar HA webhook is running against a local kube-apiserver (%s).

  export KUBECONFIG=%s

  %[3]s apply --dry-run=server -f examples/api-good.yaml -o yaml   # HA defaults filled in
  %[3]s apply --dry-run=server -f examples/api-bad.yaml            # denied, one line per rule
  %[3]s apply --dry-run=server -f examples/controller.yaml -o yaml # leader election + anti-affinity

  %[3]s apply -f examples/pdbs.yaml -f examples/api-good.yaml -f examples/controller.yaml
  %[3]s scale deployment/laminar-api --replicas=1                  # denied: [replicas-min]
  %[3]s get reports -A                                             # the background audit's findings on what is stored
  bin/laminar-ha-webhook audit -A --mode deny                      # the same, live: what deny would refuse
`, env.Config.Host, env.KubeconfigPath, kubectl)
	if c := env.Cluster; c != nil {
		fmt.Printf(`%s
  %[2]s get nodes -L topology.kubernetes.io/zone
  %[2]s get pods -o wide -L app                                    # api pods over the zones, controller pods one per host
  %[2]s get pvc,pv                                                 # each controller disk bound in its pod's zone
  %[2]s annotate node %[3]s %[4]s=true       # fail a node: its heartbeats stop,
  %[2]s get nodes -w                                               # NotReady in ~10 s, pods evicted after 30 s
  %[2]s annotate node %[3]s %[4]s-           # and bring it back
`, describeCluster(c), kubectl, c.Nodes()[0].Name, devenv.FailAnnotation)
	}
	fmt.Printf(`
Granting an exemption and switching a namespace's enforcement each take a
permission beyond editing the object (you are cluster admin here, so you hold
both); grant them like any role:
  %[1]s create rolebinding alice-exempts --clusterrole=laminar-ha-exemption-granter --user=alice
  %[1]s create clusterrolebinding alice-switches --clusterrole=laminar-ha-enforcement-override --user=alice

Webhook https://127.0.0.1:%[2]d (/mutate, /validate, /validate-scale, /validate-related, /mutate-related),
health http://127.0.0.1:%[3]d/readyz. Metrics need a token with get on /metrics (ServiceAccount
%[6]s/%[7]s is bound to ClusterRole %[8]s):

  curl -k -H "Authorization: Bearer $(%[1]s -n %[6]s create token %[7]s)" https://127.0.0.1:%[4]d/metrics

Press Ctrl-C to stop %[5]s.

`, kubectl, env.WebhookPort, env.HealthPort, env.MetricsPort, stopping(env),
		devenv.Namespace, devenv.MetricsReader, devenv.MetricsReaderRole)

	code := 0
	select {
	case <-ctx.Done():
	case <-env.WebhookExited():
		fmt.Fprintln(os.Stderr, "run: the webhook process exited unexpectedly; shutting down")
		code = 1
	}
	start := time.Now()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "run: stop:", err)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "run: stopped in %s\n", time.Since(start).Round(time.Millisecond))
	return code
}

// describeCluster introduces the simulated cluster's part of the walkthrough.
func describeCluster(c *devenv.Cluster) string {
	nodes := c.Nodes()
	topology := "without zone labels"
	if zones := c.Zones(); len(zones) > 0 {
		topology = "over zones " + strings.Join(zones, ", ")
	}
	return fmt.Sprintf(`
The applied examples really run: kube-scheduler and kube-controller-manager
place and manage their pods on %d simulated nodes %s (kwok, no
kubelet: pods turn Running and Ready without running anything), and the gp3
claims bind to zonal volumes.`, len(nodes), topology)
}

func stopping(env *devenv.Env) string {
	if env.Cluster != nil {
		return "the simulated cluster, etcd, kube-apiserver and the webhook"
	}
	return "etcd, kube-apiserver and the webhook"
}

// rel shows path relative to the repository when it is inside it.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
