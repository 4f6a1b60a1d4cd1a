// Command laminar-ha-webhook makes Laminar installations highly available by
// construction: it serves the mutating and validating admission webhook.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/laminar/ha-webhook/internal/version"
	"github.com/laminar/ha-webhook/pkg/certrotation"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/server"
)

const usage = `laminar-ha-webhook: HA admission webhook for Laminar

Usage:
  laminar-ha-webhook serve [flags]          serve the mutating and validating webhook
  laminar-ha-webhook check -f PATH [flags]  judge manifests offline, as the webhook would (exit 1 on denials)
  laminar-ha-webhook mutate -f PATH [flags] print manifests with the webhook's HA defaults filled in
  laminar-ha-webhook audit (-n NS | -A)     judge what a cluster already runs (exit 1 on denials)
  laminar-ha-webhook rules [--policy FILE]  list the rules with the actions a policy puts in force
  laminar-ha-webhook version                print the version

Run "laminar-ha-webhook COMMAND -h" for a command's flags.
`

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "check":
		return check(args[1:], os.Stdin, stdout, stderr)
	case "mutate":
		return mutateCmd(args[1:], os.Stdin, stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], stdout, stderr)
	case "rules":
		return rulesCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "laminar-ha-webhook", version.Version)
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := server.Options{}
	fs.StringVar(&o.Host, "host", "", "address the webhook listens on (empty: all)")
	fs.IntVar(&o.Port, "port", 9443, "TLS port of the webhook endpoints /mutate and /validate")
	fs.StringVar(&o.CertDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory with the serving certificate and key, reloaded on change")
	fs.StringVar(&o.CertName, "cert-name", "tls.crt", "certificate file name in --cert-dir")
	fs.StringVar(&o.KeyName, "key-name", "tls.key", "key file name in --cert-dir")
	fs.StringVar(&o.HealthAddr, "health-addr", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", `address of /metrics ("0" disables)`)
	metricsSecure := fs.Bool("metrics-secure", true,
		"serve /metrics over HTTPS (the webhook's certificate) only to callers the API server authenticates and authorizes for get on /metrics; "+
			"needs cluster access: without it, and unless set explicitly, /metrics is plain HTTP")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", false, "offer HTTP/2 on the webhook port (off: HTTP/1.1 only)")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", 0,
		"after SIGTERM, keep serving this long with /readyz failing, so endpoints stop routing here first (0 when a preStop hook already waits)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout,
		"after the delay, how long in-flight requests may take to finish before their connections are cut (exit 1 then)")
	policyPath := fs.String("policy", "", "policy file (YAML); empty uses the HA guide's defaults")
	reloadEvery := fs.Duration("policy-reload-interval", 5*time.Second, "how often the policy file is checked for changes")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig for reading namespace labels; default: in-cluster, else $KUBECONFIG, else none")
	rotSecret := fs.String("cert-rotation-secret", "",
		"namespace/name of a Secret in which the webhook issues and rotates its own CA and serving certificate, "+
			"injecting the CA into its webhook configurations (no cert-manager); empty: the certificate comes from elsewhere")
	rot := certrotation.Options{}
	fs.StringVar(&rot.Service, "cert-rotation-service", "laminar-ha-webhook", "the webhook's Service, in the Secret's namespace: the certificate's DNS names")
	fs.StringVar(&rot.WebhookConfigurations, "cert-rotation-webhooks", "laminar-ha-webhook", "name of the mutating and the validating webhook configuration that get the CA")
	fs.DurationVar(&rot.CAValidity, "cert-rotation-ca-validity", 10*365*24*time.Hour, "validity of a generated CA")
	fs.DurationVar(&rot.ServingValidity, "cert-rotation-serving-validity", 365*24*time.Hour, "validity of a generated serving certificate")
	fs.DurationVar(&rot.RenewBefore, "cert-rotation-renew-before", 90*24*time.Hour, "replace a certificate that expires within this long")
	fs.DurationVar(&rot.CheckInterval, "cert-rotation-check-interval", 12*time.Hour, "how often expiry is checked (a change of the Secret is acted on at once)")
	logFormat := fs.String("log-format", "auto", "log format: json, text, or auto (json when running in a pod)")
	logLevel := fs.String("log-level", "info", "log level: info or debug")
	var audited auditFlags
	audited.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve takes no arguments, got %q\n", fs.Args())
		return exitUsage
	}
	secureAsked := false
	fs.Visit(func(f *flag.Flag) { secureAsked = secureAsked || f.Name == "metrics-secure" })
	if o.ShutdownDelay < 0 || o.ShutdownTimeout <= 0 {
		fmt.Fprintln(stderr, "--shutdown-delay must not be negative and --shutdown-timeout must be positive")
		return exitUsage
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	ctrl.SetLogger(log)

	store, err := policy.NewStore(*policyPath)
	if err != nil {
		log.Error(err, "cannot load policy", "path", *policyPath)
		return exitFail
	}
	o.Policy = store.Current
	o.Log = log
	if rules := store.Current().Rules; len(rules) > 0 {
		log.Info("policy sets rule actions", "path", *policyPath, "ruleActions", rules)
	}
	if *policyPath != "" {
		o.Background = append(o.Background, func(ctx context.Context) error {
			store.Watch(ctx, *reloadEvery, func(r policy.ReloadResult) {
				if r.Err != nil {
					metrics.PolicyReloads.WithLabelValues("error").Inc()
					metrics.PolicyValid.Set(0)
					log.Error(r.Err, "policy file changed but cannot be used; the previous policy stays in force", "path", *policyPath)
					return
				}
				metrics.PolicyReloads.WithLabelValues("success").Inc()
				metrics.PolicyValid.Set(1)
				log.Info("policy reloaded", "path", *policyPath, "ruleActions", store.Current().Rules)
			})
			return nil
		})
	}

	cfg, ok, err := cluster.Config(*kubeconfig)
	switch {
	case err != nil:
		log.Error(err, "cannot reach the cluster")
		return exitFail
	case !ok && *metricsSecure && secureAsked && o.MetricsAddr != "0":
		// Asked for explicitly, an open endpoint would be a surprise.
		fmt.Fprintln(stderr, "--metrics-secure needs cluster access (in-cluster config, --kubeconfig or $KUBECONFIG) to authenticate and authorize scrapers")
		return exitUsage
	case ok:
		if *metricsSecure {
			o.MetricsAuth = cfg
		}
		cache, err := cluster.New(cfg)
		if err != nil {
			log.Error(err, "cannot build the cluster cache")
			return exitFail
		}
		o.Namespaces = cache
		o.Cluster = cache
		o.Nodes = cache
		if o.Access, err = cluster.NewAccessReviewer(cfg); err != nil {
			log.Error(err, "cannot build the access reviewer")
			return exitFail
		}
		o.Background = append(o.Background, cache.Start)
		o.ReadyChecks = map[string]healthz.Checker{"cluster-cache": cache.SyncedChecker}
		if audited.enabled {
			run, err := audited.background(cfg, cache, o.Policy, log.WithName("audit"))
			if err != nil {
				log.Error(err, "cannot build the audit")
				return exitFail
			}
			o.Background = append(o.Background, run)
		}
	case *rotSecret != "":
		fmt.Fprintln(stderr, "--cert-rotation-secret needs cluster access (in-cluster config, --kubeconfig or $KUBECONFIG)")
		return exitUsage
	default:
		log.Info("no cluster access (no in-cluster config, --kubeconfig or $KUBECONFIG): namespace labels are not read, the policy's enforcement defaults apply everywhere, and no exemption that needs a permission is granted")
	}
	if o.MetricsAuth == nil && o.MetricsAddr != "0" {
		why := "no cluster access to authenticate scrapers"
		if !*metricsSecure {
			why = "--metrics-secure=false"
		}
		log.Info("/metrics is plain HTTP, open to whoever reaches --metrics-addr", "metricsAddr", o.MetricsAddr, "why", why)
	}
	if *rotSecret != "" {
		if rot.Secret, err = certrotation.ParseSecret(*rotSecret); err != nil {
			fmt.Fprintln(stderr, "--cert-rotation-secret:", err)
			return exitUsage
		}
		rot.CertDir, rot.CertName, rot.KeyName = o.CertDir, o.CertName, o.KeyName
		r, err := certrotation.New(cfg, rot)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		o.Background = append(o.Background, r.Start)
		o.CertsReady = r.Ready()
		o.ReadyChecks["certificates"] = r.ReadyChecker
		log.Info("issuing and rotating the serving certificate", "secret", *rotSecret, "webhookConfigurations", rot.WebhookConfigurations)
	}
	srv, err := server.New(o)
	if err != nil {
		log.Error(err, "cannot build server")
		return exitFail
	}
	log.Info("starting", "version", version.Version, "policy", *policyPath)
	if err := srv.Start(ctx); err != nil {
		log.Error(err, "server stopped")
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}

// newLogger builds a structured logger: JSON in a pod, readable text at a terminal.
func newLogger(format, level string, out io.Writer) (logr.Logger, error) {
	// deferWith goes beneath the sampler controller-runtime adds after these
	// options, so the sampler drops a line before its values are encoded.
	opts := zap.Options{DestWriter: out, ZapOpts: []uberzap.Option{uberzap.WrapCore(deferWith)}}
	switch strings.ToLower(level) {
	case "info":
		opts.Level = zapcore.InfoLevel
	case "debug":
		opts.Level = zapcore.DebugLevel
	default:
		return logr.Logger{}, fmt.Errorf("--log-level: want info or debug, got %q", level)
	}
	if format == "auto" {
		format = "text"
		if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
			format = "json"
		}
	}
	switch format {
	case "json":
		opts.Development = false
	case "text":
		opts.Development = true
		opts.StacktraceLevel = zapcore.PanicLevel
	default:
		return logr.Logger{}, fmt.Errorf("--log-format: want json, text or auto, got %q", format)
	}
	return zap.New(zap.UseFlagOptions(&opts)), nil
}
