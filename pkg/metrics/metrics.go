// Package metrics defines the webhook's Prometheus metrics on controller-runtime's
// registry, so they are served on the same /metrics endpoint as its own.
package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of one admission decision.
const (
	OutcomeAllowed = "allowed" // judged, nothing to say
	OutcomePatched = "patched" // defaults applied
	OutcomeWarned  = "warned"  // allowed with warnings
	OutcomeDenied  = "denied"
	OutcomeSkipped = "skipped" // not judged: other kind, operation, namespace mode off, …
	OutcomeError   = "error"   // unreadable request
)

var (
	// AuditViolations counts, by namespace, rule and action in force, the
	// failing and warned results of the background audit: what already runs.
	// No object names, so the series stay as few as namespaces × rules.
	AuditViolations = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "laminar_ha_audit_violations",
		Help: "Findings of the background audit on stored Laminar workloads and their budgets and autoscalers, by namespace, rule and action (deny, warn, audit).",
	}, []string{"namespace", "rule", "action"})
	// AuditLastFull is when the last full audit pass ended.
	AuditLastFull = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "laminar_ha_audit_last_full_timestamp_seconds",
		Help: "Unix time at which the last full audit of every Laminar workload ended.",
	})
	// AuditWrites counts the report writes of the audit, by operation.
	AuditWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_audit_report_writes_total",
		Help: "OpenReports Report writes of the background audit, by operation (create, update, delete).",
	}, []string{"op"})

	// Decisions counts every admission answer.
	Decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_admission_decisions_total",
		Help: "Admission decisions by webhook (mutate, validate), kind, role and outcome.",
	}, []string{"webhook", "kind", "role", "outcome"})

	// Violations counts failed checks by what became of them: the outcome of
	// pkg/validate (an expired exemption is no outcome: its rule is enforced).
	Violations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_violations_total",
		Help: "HA rule violations by rule ID and outcome (deny, warn, audit, ratchet, exempt).",
	}, []string{"rule", "outcome"})

	// Mutations counts defaults filled in.
	Mutations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_mutations_total",
		Help: "HA defaults applied, by rule ID.",
	}, []string{"rule"})

	// Exemptions counts exemptions honoured.
	Exemptions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_exemptions_total",
		Help: "Exemptions used, by rule ID.",
	}, []string{"rule"})

	// Latency measures the handler alone, without TLS and HTTP.
	Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "laminar_ha_handler_duration_seconds",
		Help:    "Time spent judging one admission request, by webhook.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	}, []string{"webhook"})

	// PolicyReloads counts policy file reloads by result.
	PolicyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_policy_reloads_total",
		Help: "Policy file reloads by result (success, error).",
	}, []string{"result"})

	// Shed counts webhook requests refused with 429 before they were judged, by
	// what was full: "memory" (bodies being received), "queue" (no judging slot
	// within half the caller's timeout).
	Shed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "laminar_ha_requests_shed_total",
		Help: "Webhook requests answered 429 before being judged, by reason (memory, queue).",
	}, []string{"reason"})

	// PolicyValid is 1 while the policy file on disk is the one in force, 0 while an
	// invalid file is being ignored and the last good policy still applies.
	PolicyValid = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "laminar_ha_policy_valid",
		Help: "1 when the policy file on disk is valid and in force; 0 when it is invalid and the previous policy is kept.",
	})
)

// CacheObjects reports, at each scrape, how many objects the cluster cache
// holds, by kind: what its memory grows with.
var CacheObjects = &cacheObjects{desc: prometheus.NewDesc("laminar_ha_cluster_cache_objects",
	"Objects held by the webhook's cluster cache, by kind.", []string{"kind"}, nil)}

type cacheObjects struct {
	desc  *prometheus.Desc
	count atomic.Pointer[func() map[string]int]
}

// Source makes count what is reported: the cache last started.
func (c *cacheObjects) Source(count func() map[string]int) { c.count.Store(&count) }

func (c *cacheObjects) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *cacheObjects) Collect(ch chan<- prometheus.Metric) {
	f := c.count.Load()
	if f == nil {
		return
	}
	for kind, n := range (*f)() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), kind)
	}
}

func init() {
	crmetrics.Registry.MustRegister(AuditViolations, AuditLastFull, AuditWrites, Decisions, Violations, Mutations, Exemptions, Latency, Shed, PolicyReloads, PolicyValid,
		CacheObjects)
	PolicyValid.Set(1)
}
