// Command noop is the load harness's reference webhook: controller-runtime's
// webhook server with the TLS options of laminar-ha-webhook (server.Options'
// TLSConfig: TLS 1.2 floor, HTTP/1.1 only), its admission.Webhook wrapping with
// the same metrics, health and metrics listeners beside it, and a handler that
// allows everything with no patch. Whatever it costs per request is the cost of
// the stack alone: TLS, HTTP, AdmissionReview decoding and encoding.
//
// It takes the serve flags of laminar-ha-webhook that matter for serving:
//
//	noop --host 127.0.0.1 --port 9443 --cert-dir DIR --health-addr ADDR --metrics-addr ADDR
//
// With --patches DIR it replays patches instead (the load command's "patch
// replay" variant): /mutate answers a request for kind K with the JSON patch
// in DIR/K.json, read at start, and allows other kinds unpatched, so what
// kube-apiserver spends on a webhook's patch can be measured apart from what
// the webhook spends computing it. Without the flag nothing changes.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/errgroup"
	admissionv1 "k8s.io/api/admission/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
}

// allow is the whole handler: allowed, no patch, no warnings.
func allow(context.Context, admission.Request) admission.Response { return admission.Allowed("") }

// replay answers with the patch read for the request's kind, allowing it.
func replay(patches map[string][]byte) admission.HandlerFunc {
	jsonPatch := admissionv1.PatchTypeJSONPatch
	return func(_ context.Context, req admission.Request) admission.Response {
		resp := admission.Allowed("")
		if p, ok := patches[req.Kind.Kind]; ok {
			resp.Patch, resp.PatchType = p, &jsonPatch
		}
		return resp
	}
}

// readPatches reads DIR/K.json for every kind K there: each must hold a JSON
// patch (an array of operations), or the no-op does not start.
func readPatches(dir string) (map[string][]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--patches %s: no KIND.json file", dir)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ops []struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}
		if err := json.Unmarshal(data, &ops); err != nil {
			return nil, fmt.Errorf("%s: not a JSON patch: %w", f, err)
		}
		if len(ops) == 0 {
			return nil, fmt.Errorf("%s: an empty JSON patch", f)
		}
		for i, op := range ops {
			if op.Op == "" || op.Path == "" {
				return nil, fmt.Errorf("%s: operation %d has no op or no path", f, i)
			}
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = data
	}
	return out, nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noop", flag.ContinueOnError)
	o := server.Options{}
	fs.StringVar(&o.Host, "host", "127.0.0.1", "address the webhook listens on")
	fs.IntVar(&o.Port, "port", 9443, "TLS port of /mutate and /validate")
	fs.StringVar(&o.CertDir, "cert-dir", "", "directory with tls.crt and tls.key")
	fs.StringVar(&o.HealthAddr, "health-addr", "127.0.0.1:8081", "address of /healthz and /readyz")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "0", `address of /metrics ("0" disables)`)
	patchDir := fs.String("patches", "", "replay: answer /mutate for kind K with the JSON patch in DIR/K.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mutate := admission.HandlerFunc(allow)
	if *patchDir != "" {
		patches, err := readPatches(*patchDir)
		if err != nil {
			return err
		}
		mutate = replay(patches)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zap.Options{DestWriter: os.Stderr, Level: zapcore.InfoLevel})))

	ws := webhook.NewServer(webhook.Options{
		Host:    o.Host,
		Port:    o.Port,
		CertDir: o.CertDir,
		TLSOpts: []func(*tls.Config){o.TLSConfig},
	})
	ws.Register(server.MutatePath, &admission.Webhook{Handler: mutate})
	for _, path := range []string{server.ValidatePath, server.ValidateScalePath, server.ValidateRelatedPath} {
		ws.Register(path, &admission.Webhook{Handler: admission.HandlerFunc(allow)})
	}
	mux := http.NewServeMux()
	ready := &healthz.Handler{Checks: map[string]healthz.Checker{"webhook": ws.StartedChecker()}}
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/healthz", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	health := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ms, err := metricsserver.NewServer(metricsserver.Options{BindAddress: o.MetricsAddr}, nil, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.HealthAddr)
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ws.Start(ctx) })
	if ms != nil {
		g.Go(func() error { return ms.Start(ctx) })
	}
	g.Go(func() error {
		if err := health.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return health.Shutdown(sctx)
	})
	return g.Wait()
}
