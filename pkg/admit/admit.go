// Package admit adapts the mutate and validate engines to admission requests: it
// decides which requests are judged, decodes them, applies the namespace's mode,
// and shapes responses, audit annotations, metrics and log lines.
package admit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
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

// subject is a request the webhook judges.
type subject struct {
	workload *workload.Workload
	kind     string
}

// decode decides whether req is judged. When it is not, or cannot be read, the
// returned response is the answer and subject is nil.
func decode(req admission.Request) (*subject, *admission.Response, string) {
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		r := admission.Allowed(fmt.Sprintf("operation %s is not judged", req.Operation))
		return nil, &r, metrics.OutcomeSkipped
	}
	gvk := schema.GroupVersionKind(req.Kind)
	if gvk != workload.DeploymentGVK && gvk != workload.StatefulSetGVK {
		r := admission.Allowed(fmt.Sprintf("kind %s is not judged", gvk.String()))
		return nil, &r, metrics.OutcomeSkipped
	}
	obj, err := workload.Decode(gvk, req.Object.Raw)
	if err != nil {
		r := admission.Errored(http.StatusBadRequest, err)
		return nil, &r, metrics.OutcomeError
	}
	w, ok := workload.FromObject(obj)
	if !ok {
		r := admission.Allowed("not a Laminar workload")
		return nil, &r, metrics.OutcomeSkipped
	}
	// Updates during deletion only remove finalizers; blocking them would leave the
	// object stuck in Terminating.
	if w.Meta.DeletionTimestamp != nil {
		r := admission.Allowed("object is being deleted")
		return nil, &r, metrics.OutcomeSkipped
	}
	if w.Meta.Name == "" && req.Name != "" {
		w.Meta.Name = req.Name
	}
	if w.Meta.Namespace == "" {
		w.Meta.Namespace = req.Namespace
	}
	return &subject{workload: w, kind: gvk.Kind}, nil, ""
}

// namespaceLabels reads labels through ns, which may be nil (no cluster access).
func namespaceLabels(ctx context.Context, ns Namespaces, name string) map[string]string {
	if ns == nil || name == "" {
		return nil
	}
	l, _ := ns.Labels(ctx, name)
	return l
}

// enforcement reads the namespace's enforcement mode and starts the audit
// annotations; where enforcement is off, off is the answer.
func enforcement(ctx context.Context, ns Namespaces, p *policy.Policy, namespace, webhook, kind, role string, start time.Time) (
	mode, note string, audit map[string]string, off *admission.Response) {
	mode, note = p.EnforceMode(namespaceLabels(ctx, ns, namespace))
	audit = map[string]string{AuditRole: role, AuditMode: mode}
	if mode != policy.ModeOff {
		return mode, note, audit, nil
	}
	observe(webhook, kind, role, metrics.OutcomeSkipped, start)
	logf.FromContext(ctx).V(1).Info("enforcement is off in this namespace")
	resp := admission.Allowed("HA enforcement is off in namespace " + namespace)
	resp.AuditAnnotations = audit
	resp = withNote(resp, note)
	return mode, note, audit, &resp
}

// observe records one decision's metrics.
func observe(webhook, kind, role, outcome string, start time.Time) {
	if role == "" {
		role = "none"
	}
	if kind == "" {
		kind = "none"
	}
	metrics.Decisions.WithLabelValues(webhook, kind, role, outcome).Inc()
	metrics.Latency.WithLabelValues(webhook).Observe(time.Since(start).Seconds())
}

// Mutator fills HA defaults into Laminar workloads.
type Mutator struct {
	Policy     PolicySource
	Namespaces Namespaces
}

// Handle implements admission.Handler.
func (m *Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	log := logf.FromContext(ctx)
	s, done, outcome := decode(req)
	if done != nil {
		observe("mutate", req.Kind.Kind, "", outcome, start)
		logSkipped(log, done, outcome)
		return *done
	}
	role := string(s.workload.Role)
	p := m.Policy()
	labels := namespaceLabels(ctx, m.Namespaces, req.Namespace)
	mode, note := p.MutateMode(labels)
	audit := map[string]string{AuditRole: role, AuditMode: "mutate-" + mode}
	if mode == policy.MutateOff {
		observe("mutate", s.kind, role, metrics.OutcomeSkipped, start)
		log.V(1).Info("mutation is off in this namespace")
		resp := admission.Allowed("mutation is off in namespace " + req.Namespace)
		resp.AuditAnnotations = audit
		return withNote(resp, note)
	}

	res, err := mutate.Object(s.workload.Object(), req.Object.Raw, p)
	if err != nil {
		observe("mutate", s.kind, role, metrics.OutcomeError, start)
		log.Error(err, "mutation failed")
		return admission.Errored(http.StatusInternalServerError, err)
	}
	for _, id := range res.Exempted {
		metrics.Exemptions.WithLabelValues(id).Inc()
	}
	if len(res.Exempted) > 0 {
		audit[AuditExempted] = strings.Join(res.Exempted, ",")
		log.Info("exemption used", "exempted", res.Exempted, "reason", s.workload.Meta.Annotations[exempt.AnnotationReason])
	}
	if len(res.Patch) == 0 {
		observe("mutate", s.kind, role, metrics.OutcomeAllowed, start)
		log.V(1).Info("HA defaults already in place", "role", role)
		resp := admission.Allowed("HA defaults already in place")
		resp.AuditAnnotations = audit
		return withNote(resp, note)
	}
	for _, id := range res.Applied {
		metrics.Mutations.WithLabelValues(id).Inc()
	}
	observe("mutate", s.kind, role, metrics.OutcomePatched, start)
	log.Info("HA defaults applied", "role", role, "rules", res.Applied, "dryRun", dryRun(req))
	if log.V(1).Enabled() {
		log.V(1).Info("patch", "operations", res.Patch)
	}
	audit[AuditDefaults] = strings.Join(res.Applied, ",")
	resp := admission.Patched("HA defaults applied: "+strings.Join(res.Applied, ","), res.Patch...)
	resp.AuditAnnotations = audit
	return withNote(resp, note)
}

// Validator denies Laminar workloads that break HA minimums and warns on soft items.
type Validator struct {
	Policy     PolicySource
	Namespaces Namespaces
	// Cluster feeds the cluster-aware rules (disruption budgets, autoscalers); nil
	// where nothing is known of the cluster, and those rules then pass.
	Cluster rules.View
}

// Handle implements admission.Handler.
func (v *Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	log := logf.FromContext(ctx)
	s, done, outcome := decode(req)
	if done != nil {
		observe("validate", req.Kind.Kind, "", outcome, start)
		logSkipped(log, done, outcome)
		return *done
	}
	role := string(s.workload.Role)
	p := v.Policy()
	mode, note, audit, off := enforcement(ctx, v.Namespaces, p, req.Namespace, "validate", s.kind, role, start)
	if off != nil {
		return *off
	}

	c := validate.Context{Mode: mode, Now: exempt.Now(), Ctx: ctx, View: v.Cluster}
	if req.Operation == admissionv1.Update {
		c.Old = oldWorkload(req)
	}
	d := validate.Judge(s.workload, p, c)
	return respond(ctx, req, verdict{webhook: "validate", kind: s.kind, role: role, mode: mode, gk: s.workload.GroupKind(), name: s.workload.Name(),
		exemption: s.workload.Meta.Annotations, decision: d, note: note, audit: audit, start: start})
}

// verdict is everything a validating response is built from.
type verdict struct {
	webhook, kind, role, mode string
	gk                        schema.GroupKind
	name                      string
	// exemption holds the annotations the exemption was read from, for the log.
	exemption map[string]string
	decision  validate.Decision
	note      string
	audit     map[string]string
	start     time.Time
}

// respond turns a decision into the admission response, with its audit
// annotations, metrics and log line.
func respond(ctx context.Context, req admission.Request, v verdict) admission.Response {
	log := logf.FromContext(ctx)
	d := v.decision
	var all []string
	seen := map[string]bool{}
	for _, f := range d.Findings {
		metrics.Violations.WithLabelValues(f.RuleID, string(f.Outcome)).Inc()
		if f.Outcome == validate.OutcomeExempt {
			metrics.Exemptions.WithLabelValues(f.RuleID).Inc()
		}
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			all = append(all, f.RuleID)
		}
	}
	audit := v.audit
	setList(audit, AuditViolations, all)
	setList(audit, AuditDenied, d.RuleIDs(validate.OutcomeDeny))
	setList(audit, AuditWarned, d.RuleIDs(validate.OutcomeWarn))
	setList(audit, AuditAudited, d.RuleIDs(validate.OutcomeAudit))
	setList(audit, AuditRatcheted, d.RuleIDs(validate.OutcomeRatchet))
	setList(audit, AuditExempted, d.RuleIDs(validate.OutcomeExempt))
	if ex := d.RuleIDs(validate.OutcomeExempt); len(ex) > 0 {
		log.Info("exemption used", "exempted", ex, "reason", v.exemption[exempt.AnnotationReason],
			"until", v.exemption[exempt.AnnotationUntil])
	}
	warnings := d.Warnings()
	if v.note != "" {
		warnings = append(warnings, v.note)
	}

	if errs := d.Denials(); len(errs) > 0 {
		var st *apierrors.StatusError
		if !errors.As(apierrors.NewInvalid(v.gk, v.name, errs), &st) {
			observe(v.webhook, v.kind, v.role, metrics.OutcomeError, v.start)
			return admission.Errored(http.StatusInternalServerError, errors.New("cannot build the denial"))
		}
		observe(v.webhook, v.kind, v.role, metrics.OutcomeDenied, v.start)
		log.Info("denied", "role", v.role, "mode", v.mode, "rules", d.RuleIDs(validate.OutcomeDeny), "dryRun", dryRun(req))
		resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st.ErrStatus}}
		resp.AuditAnnotations = audit
		return resp.WithWarnings(warnings...)
	}
	if len(warnings) > 0 {
		observe(v.webhook, v.kind, v.role, metrics.OutcomeWarned, v.start)
		log.Info("allowed with warnings", "role", v.role, "mode", v.mode, "warned", d.RuleIDs(validate.OutcomeWarn),
			"audited", d.RuleIDs(validate.OutcomeAudit), "ratcheted", d.RuleIDs(validate.OutcomeRatchet), "dryRun", dryRun(req))
	} else {
		observe(v.webhook, v.kind, v.role, metrics.OutcomeAllowed, v.start)
		log.V(1).Info("allowed", "role", v.role, "mode", v.mode)
	}
	resp := admission.Allowed("meets the Laminar HA rules")
	resp.AuditAnnotations = audit
	return resp.WithWarnings(warnings...)
}

// oldWorkload decodes the stored object of an UPDATE; nil when it is absent,
// unreadable or was not a Laminar workload (then nothing is ratcheted).
func oldWorkload(req admission.Request) *workload.Workload {
	obj, err := workload.Decode(schema.GroupVersionKind(req.Kind), req.OldObject.Raw)
	if err != nil {
		return nil
	}
	w, ok := workload.FromObject(obj)
	if !ok {
		return nil
	}
	return w
}

func setList(m map[string]string, key string, ids []string) {
	if len(ids) > 0 {
		m[key] = strings.Join(ids, ",")
	}
}

func withNote(resp admission.Response, note string) admission.Response {
	if note == "" {
		return resp
	}
	return resp.WithWarnings(note)
}

func dryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

// logSkipped logs an unjudged request at debug and an unreadable one at info.
func logSkipped(log logr.Logger, resp *admission.Response, outcome string) {
	msg := ""
	if resp.Result != nil {
		msg = resp.Result.Message
	}
	if outcome == metrics.OutcomeError {
		log.Info("unreadable request", "error", msg)
		return
	}
	log.V(1).Info("not judged", "why", msg)
}
