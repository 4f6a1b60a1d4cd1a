package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/audit"
	"github.com/laminar/ha-webhook/pkg/cluster"
)

// auditFlags are serve's flags of the background audit.
type auditFlags struct {
	enabled   bool
	reports   bool
	resync    time.Duration
	writeQPS  float64
	namespace string
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "audit", true, "judge the stored Laminar workloads in the background (one replica, holding a Lease)")
	fs.BoolVar(&f.reports, "audit-reports", true, "write the audit's findings as OpenReports Reports (needs the openreports.io CRD; without it only the gauges are kept)")
	fs.DurationVar(&f.resync, "audit-resync", audit.DefaultResync, "period of the audit's full passes, besides the one at start and on every policy reload")
	fs.Float64Var(&f.writeQPS, "audit-write-qps", audit.DefaultWriteQPS, "report writes per second at most")
	fs.StringVar(&f.namespace, "audit-lease-namespace", envOr("POD_NAMESPACE", "laminar-ha-system"), "namespace of the audit's Lease")
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// background is the audit as a background task of the server: it subscribes
// to the cache, waits for it to sync, then judges while holding the Lease.
func (f *auditFlags) background(cfg *rest.Config, cache *cluster.Cache, policy admit.PolicySource, log logr.Logger) (func(context.Context) error, error) {
	writer, err := cluster.NewWriter(cfg)
	if err != nil {
		return nil, fmt.Errorf("audit client: %w", err)
	}
	a := audit.New(audit.Config{Cache: cache, Writer: writer, Policy: policy, Resync: f.resync, WriteQPS: f.writeQPS,
		Reports: f.reports, Log: log})
	identity := envOr("POD_NAME", "laminar-ha-webhook") + "_" + rand.String(8)
	return func(ctx context.Context) error {
		defer a.ShutDown()
		if !cache.WaitForSync(ctx) {
			return nil
		}
		if _, err := a.Register(ctx); err != nil {
			return err
		}
		return audit.RunLeased(ctx, cfg, f.namespace, identity, log, a.RunLeading)
	}, nil
}
