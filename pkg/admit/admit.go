// Package admit adapts the mutate and validate engines to admission requests.
// Every webhook is one skeleton (webhook.go): the operation gate, the decode, the
// namespace switch, the engine, then the response, audit annotations, metrics
// and log line. What differs per webhook is only how a request is read and
// judged (workloads.go, scale.go, related.go). The offline check calls the same
// Decide entry points, so the webhook and the CLI reach the same verdict.
package admit

import (
	"context"
	"time"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// Audit annotation keys; the API server prefixes them with the webhook's name.
const (
	AuditRole       = "role"
	AuditMode       = "mode"
	AuditDefaults   = "defaults-applied"
	AuditViolations = "violations" // every rule violated, whatever became of it
	AuditDenied     = "denied"
	AuditWarned     = "warned"
	AuditAudited    = "audited"   // deny rules only warned in a warn-mode namespace
	AuditRatcheted  = "ratcheted" // deny rules the old object already broke
	AuditExempted   = "exempted"
	AuditDeferred   = "defaults-deferred" // defaults left for the pod template's next change
	AuditPending    = "pending"           // deny rules a deferred default will fix
)

// PolicySource returns the policy in force for one request.
type PolicySource func() *policy.Policy

// Static always returns p.
func Static(p *policy.Policy) PolicySource { return func() *policy.Policy { return p } }

// Namespaces tells a namespace's labels, from a cache; ok is false when the
// namespace is not known (yet), and the policy's defaults then apply.
type Namespaces interface {
	Labels(ctx context.Context, name string) (labels map[string]string, ok bool)
}

// EnforcementHistory is implemented by Namespaces that also know when a
// namespace's enforcement was last switched back on from off (the annotation
// policy.AnnotationEnforcedSince); ok is false when it never was.
type EnforcementHistory interface {
	EnforcedSince(ctx context.Context, name string) (since time.Time, ok bool)
}

// enforcedSince reads the history through ns, which may know none.
func enforcedSince(ctx context.Context, ns Namespaces, name string) time.Time {
	h, ok := ns.(EnforcementHistory)
	if !ok || name == "" {
		return time.Time{}
	}
	since, _ := h.EnforcedSince(ctx, name)
	return since
}

// NodeSource tells what is known of the cluster's schedulable nodes.
type NodeSource interface {
	Nodes(ctx context.Context) rules.Nodes
}

// NodesFor reads the nodes through src, which may be nil (nothing known), unless
// the policy says to assume the guide's multi-zone cluster whatever they are.
func NodesFor(ctx context.Context, src NodeSource, p *policy.Policy) rules.Nodes {
	if src == nil || p.Nodes.AssumeMultiZone {
		return rules.Nodes{}
	}
	return src.Nodes(ctx)
}

// Clock tells the time a request is judged at (exemption expiry). It is read
// once per request, here at the edge, and handed to the engines; nil is the
// wall clock.
type Clock func() time.Time

// Now is the clock's time.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// namespaceLabels reads labels through ns, which may be nil (no cluster access).
func namespaceLabels(ctx context.Context, ns Namespaces, name string) map[string]string {
	if ns == nil || name == "" {
		return nil
	}
	l, _ := ns.Labels(ctx, name)
	return l
}
