package admit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

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

// Webhook names, as metrics and logs give them.
const (
	WebhookMutate          = "mutate"
	WebhookValidate        = "validate"
	WebhookValidateScale   = "validate-scale"
	WebhookValidateRelated = "validate-related"
	WebhookMutateRelated   = "mutate-related"
)

// Subject is what a judged request is about.
type Subject struct {
	// Kind is the kind judged, as the metrics name it.
	Kind string
	// Role is the Laminar role of the workload judged or governed.
	Role workload.Role
	// GroupKind and Name name the object written, for the Invalid error.
	GroupKind schema.GroupKind
	Name      string
	Namespace string
	// Exemption is what the workload's annotations ask for, for the log line.
	Exemption exempt.Exemption
}

// Switch is the namespace switch a webhook obeys, as read for one request.
type Switch struct {
	// Mode is the value in force: an enforcement mode, or a mutate mode.
	Mode string
	// Note explains a label value that was not allowed; it becomes a warning.
	Note string
	// Off is set when the switch turned the webhook off for this request.
	Off bool
}

// Verdict is a webhook's answer before it becomes an admission response. The
// offline check reads it as it is.
type Verdict struct {
	Webhook string
	// Judged is set when the request was about a Laminar object the webhook
	// judges; Subject and Switch are then filled.
	Judged  bool
	Subject Subject
	Switch  Switch
	// Why says why a request was allowed unjudged.
	Why string
	// Err is set when the request could not be read (Code 400) or judged (500).
	Err  error
	Code int32
	// Mutation is the mutating webhook's result; Decision the validating ones'.
	Mutation *mutate.Result
	Decision *validate.Decision

	// gate is the switch the webhook obeys, for the audit annotation and the log.
	gate *gate
}

// gate reads a namespace switch from the policy and the namespace's labels.
type gate struct {
	read func(p *policy.Policy, namespaceLabels map[string]string) (mode, note string)
	// off is the mode that switches the webhook off; offMessage its answer,
	// offLog its debug log line.
	off        string
	offMessage string
	offLog     string
	// audit renders the mode for the audit annotation.
	audit func(mode string) string
}

var (
	enforcementGate = gate{read: (*policy.Policy).EnforceMode, off: policy.ModeOff,
		offMessage: "HA enforcement is off in namespace ", offLog: "enforcement is off in this namespace",
		audit: func(m string) string { return m }}
	mutationGate = gate{read: (*policy.Policy).MutateMode, off: policy.MutateOff,
		offMessage: "mutation is off in namespace ", offLog: "mutation is off in this namespace",
		audit: func(m string) string { return "mutate-" + m }}
)

// reading is a request read by one webhook: either a subject and how to judge
// it, or why it is not judged, or why it cannot be read.
type reading struct {
	subject Subject
	// judge runs the engine on the subject at the time in s, filling v.
	judge func(v *Verdict, p *policy.Policy, mode string, s rules.Situation)
	skip  string
	err   error
}

func skipped(why string) reading   { return reading{skip: why} }
func unreadable(err error) reading { return reading{err: err} }

// Config is what every webhook reads.
type Config struct {
	Policy     PolicySource
	Namespaces Namespaces
	// Cluster feeds the cluster-aware rules and finds the workloads scale
	// requests, budgets, autoscalers, Services and Ingresses belong to; nil where nothing is known of
	// the cluster: those rules then pass and those requests are not judged.
	Cluster rules.View
	// Clock is the time exemptions are judged at; nil is the wall clock.
	Clock Clock
	// Nodes tells the schedulable nodes some defaults and warnings depend on;
	// nil where none are known (the guide's multi-zone cluster is assumed).
	Nodes NodeSource
	// Access asks the API server what the requesting user may do (granting an
	// exemption). Nil where it cannot be asked: a permission check then refuses,
	// so that no exemption is granted by accident. The offline check, which knows
	// no requester, passes Unchecked.
	Access AccessReviewer
}

// Handler is one webhook: the shared skeleton with its way of reading requests.
// It implements admission.Handler.
type Handler struct {
	webhook
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	return h.handle(ctx, req)
}

// Decide is the verdict Handle answers with.
func (h *Handler) Decide(ctx context.Context, req admission.Request) Verdict {
	return h.decide(ctx, req)
}

func (c Config) handler(name string, g gate, requestKind func(admission.Request) string,
	read func(context.Context, admission.Request) reading) *Handler {
	return &Handler{webhook{name: name, config: c, gate: g, requestKind: requestKind, read: read}}
}

// webhook is the skeleton every handler shares.
type webhook struct {
	name   string
	config Config
	gate   gate
	// requestKind names the kind of a request before it is read, for metrics.
	requestKind func(req admission.Request) string
	read        func(ctx context.Context, req admission.Request) reading
}

// decide runs the skeleton up to the verdict.
func (w *webhook) decide(ctx context.Context, req admission.Request) Verdict {
	v := Verdict{Webhook: w.name, gate: &w.gate}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		v.Why = fmt.Sprintf("operation %s is not judged", req.Operation)
		return v
	}
	r := w.read(ctx, req)
	switch {
	case r.err != nil:
		v.Err, v.Code = r.err, http.StatusBadRequest
		return v
	case r.judge == nil:
		v.Why = r.skip
		return v
	}
	v.Judged, v.Subject = true, r.subject
	p := w.config.Policy()
	mode, note := w.gate.read(p, namespaceLabels(ctx, w.config.Namespaces, v.Subject.Namespace))
	v.Switch = Switch{Mode: mode, Note: note, Off: mode == w.gate.off}
	if v.Switch.Off {
		v.Why = w.gate.offMessage + v.Subject.Namespace
		return v
	}
	r.judge(&v, p, mode, rules.Situation{Ctx: ctx, Now: w.config.Clock.Now(), View: w.config.Cluster,
		Authorizer: w.config.authorizer(req), EnforcedSince: enforcedSince(ctx, w.config.Namespaces, v.Subject.Namespace),
		Nodes: NodesFor(ctx, w.config.Nodes, p)})
	return v
}

// handle is the whole skeleton: the verdict, then its response, metrics and log.
func (w *webhook) handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	v := w.decide(ctx, req)
	resp, outcome := v.response()
	kind, role := w.requestKind(req), "none"
	if v.Judged {
		kind, role = v.Subject.Kind, string(v.Subject.Role)
	}
	metrics.Decisions.WithLabelValues(w.name, kindLabel(kind), roleLabel(role), outcome).Inc()
	metrics.Latency.WithLabelValues(w.name).Observe(time.Since(start).Seconds())
	v.record()
	v.log(ctx, outcome, req.DryRun != nil && *req.DryRun)
	return resp
}

// metricKinds are the kinds a request can name that the webhooks judge. Any
// other kind comes from the caller and is counted as "other": each new label
// value would be a series held for the life of the process.
var metricKinds = map[string]bool{
	workload.KindDeployment: true, workload.KindStatefulSet: true, "Scale": true,
	rules.KindPodDisruptionBudget: true, rules.KindHorizontalPodAutoscaler: true,
	rules.KindService: true, rules.KindIngress: true,
}

func kindLabel(kind string) string {
	switch {
	case kind == "":
		return "none"
	case metricKinds[kind]:
		return kind
	}
	return "other"
}

func roleLabel(role string) string {
	if role == "none" || slices.Contains(workload.Roles, workload.Role(role)) {
		return role
	}
	return "other"
}

// MutationFailedWarning starts the warning of an object admitted unpatched
// because its defaults could not be computed.
const MutationFailedWarning = "HA defaults could not be computed; admitted unpatched, the validating webhook still judges it: "

// DeferredWarning tells an UPDATE that leaves the pod template as it was that
// defaults wait for the template's next change (a format for their number);
// the audit annotation defaults-deferred names them.
const DeferredWarning = "pod template unchanged: %d HA defaults wait for its next change; now: annotate " +
	mutate.AnnotationApplyDefaults + "=true"

// response renders the verdict, with the metrics outcome it is counted as.
func (v *Verdict) response() (admission.Response, string) {
	switch {
	case v.Err != nil && v.Judged && (v.Webhook == WebhookMutate || v.Webhook == WebhookMutateRelated):
		// The API server takes an error answer for a refusal, whatever the
		// failurePolicy; defaults are a convenience and never block an object.
		resp := admission.Allowed("HA defaults not applied").WithWarnings(validate.FitWarning(MutationFailedWarning + v.Err.Error()))
		resp.AuditAnnotations = map[string]string{AuditRole: string(v.Subject.Role), AuditMode: v.gate.audit(v.Switch.Mode)}
		return resp, metrics.OutcomeError
	case v.Err != nil:
		return admission.Errored(v.Code, v.Err), metrics.OutcomeError
	case !v.Judged:
		return admission.Allowed(v.Why), metrics.OutcomeSkipped
	}
	audit := map[string]string{AuditRole: string(v.Subject.Role), AuditMode: v.gate.audit(v.Switch.Mode)}
	var resp admission.Response
	outcome := metrics.OutcomeSkipped
	switch {
	case v.Switch.Off:
		resp = admission.Allowed(v.Why)
	case v.Mutation != nil:
		resp, outcome = v.mutationResponse(audit)
	case v.Decision != nil:
		resp, outcome = v.decisionResponse(audit)
		if outcome == metrics.OutcomeError {
			return resp, outcome
		}
	}
	resp.AuditAnnotations = audit
	if v.Switch.Note != "" {
		resp = resp.WithWarnings(v.Switch.Note)
	}
	return resp, outcome
}

var jsonPatchType = admissionv1.PatchTypeJSONPatch

func (v *Verdict) mutationResponse(audit map[string]string) (admission.Response, string) {
	res := v.Mutation
	setList(audit, AuditExempted, res.Exempted)
	setList(audit, AuditDeferred, res.Deferred)
	var warnings []string
	if len(res.Deferred) > 0 {
		warnings = append(warnings, validate.FitWarning(fmt.Sprintf(DeferredWarning, len(res.Deferred))))
	}
	if len(res.Patch) == 0 {
		return admission.Allowed("HA defaults already in place").WithWarnings(warnings...), metrics.OutcomeAllowed
	}
	audit[AuditDefaults] = strings.Join(res.Applied, ",")
	// admission.Patched would encode res.Patch again, the slow way (see mutate.EncodePatch).
	resp := admission.Allowed("HA defaults applied: " + strings.Join(res.Applied, ","))
	resp.Patch, resp.PatchType = res.Encoded, &jsonPatchType
	return resp.WithWarnings(warnings...), metrics.OutcomePatched
}

func (v *Verdict) decisionResponse(audit map[string]string) (admission.Response, string) {
	d := v.Decision
	var all []string
	seen := map[string]bool{}
	for _, f := range d.Findings {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			all = append(all, f.RuleID)
		}
	}
	setList(audit, AuditViolations, all)
	setList(audit, AuditDenied, d.RuleIDs(validate.OutcomeDeny))
	setList(audit, AuditWarned, d.RuleIDs(validate.OutcomeWarn))
	setList(audit, AuditAudited, d.RuleIDs(validate.OutcomeAudit))
	setList(audit, AuditRatcheted, d.RuleIDs(validate.OutcomeRatchet))
	setList(audit, AuditExempted, d.RuleIDs(validate.OutcomeExempt))
	setList(audit, AuditPending, d.RuleIDs(validate.OutcomePending))
	warnings := d.Warnings()
	if errs := d.Denials(); len(errs) > 0 {
		var st *apierrors.StatusError
		if !errors.As(apierrors.NewInvalid(v.Subject.GroupKind, v.Subject.Name, errs), &st) {
			return admission.Errored(http.StatusInternalServerError, errors.New("cannot build the denial")), metrics.OutcomeError
		}
		resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st.ErrStatus}}
		return resp.WithWarnings(warnings...), metrics.OutcomeDenied
	}
	outcome := metrics.OutcomeAllowed
	if len(warnings) > 0 || v.Switch.Note != "" {
		outcome = metrics.OutcomeWarned
	}
	return admission.Allowed("meets the Laminar HA rules").WithWarnings(warnings...), outcome
}

// record counts what the engines did, by rule.
func (v *Verdict) record() {
	if res := v.Mutation; res != nil {
		for _, id := range res.Exempted {
			metrics.Exemptions.WithLabelValues(id).Inc()
		}
		if len(res.Patch) > 0 {
			for _, id := range res.Applied {
				metrics.Mutations.WithLabelValues(id).Inc()
			}
		}
	}
	if d := v.Decision; d != nil {
		for _, f := range d.Findings {
			metrics.Violations.WithLabelValues(f.RuleID, string(f.Outcome)).Inc()
			if f.Outcome == validate.OutcomeExempt {
				metrics.Exemptions.WithLabelValues(f.RuleID).Inc()
			}
		}
	}
}

// log writes the decision's log line: what was decided at info, what changed
// nothing at debug. Objects are never logged.
func (v *Verdict) log(ctx context.Context, outcome string, dryRun bool) {
	log := logf.FromContext(ctx)
	role := string(v.Subject.Role)
	switch {
	case v.Err != nil && v.Code == http.StatusBadRequest:
		log.Info("unreadable request", "error", v.Err.Error())
		return
	case v.Err != nil:
		log.Error(v.Err, "judging failed")
		return
	case !v.Judged:
		log.V(1).Info("not judged", "why", v.Why)
		return
	case v.Switch.Off:
		log.V(1).Info(v.gate.offLog)
		return
	}
	var exempted []string
	if v.Mutation != nil {
		exempted = v.Mutation.Exempted
	} else if v.Decision != nil {
		exempted = v.Decision.RuleIDs(validate.OutcomeExempt)
	}
	if len(exempted) > 0 {
		log.Info("exemption used", v.Subject.Exemption.LogValues(exempted)...)
		log.V(1).Info("exemption reason", v.Subject.Exemption.ReasonLogValues(exempted)...)
	}
	mode := v.Switch.Mode
	switch outcome {
	case metrics.OutcomePatched:
		log.Info("HA defaults applied", "role", role, "rules", v.Mutation.Applied, "dryRun", dryRun)
		if log.V(1).Enabled() {
			log.V(1).Info("patch", "operations", v.Mutation.Patch)
		}
	case metrics.OutcomeDenied:
		log.Info("denied", "role", role, "mode", mode, "rules", v.Decision.RuleIDs(validate.OutcomeDeny), "dryRun", dryRun)
	case metrics.OutcomeWarned:
		d := v.Decision
		log.Info("allowed with warnings", "role", role, "mode", mode, "warned", d.RuleIDs(validate.OutcomeWarn),
			"audited", d.RuleIDs(validate.OutcomeAudit), "ratcheted", d.RuleIDs(validate.OutcomeRatchet),
			"pending", d.RuleIDs(validate.OutcomePending), "dryRun", dryRun)
	case metrics.OutcomeAllowed:
		if v.Mutation != nil {
			log.V(1).Info("HA defaults already in place", "role", role)
		} else {
			log.V(1).Info("allowed", "role", role, "mode", mode)
		}
	}
}

func setList(m map[string]string, key string, ids []string) {
	if len(ids) > 0 {
		m[key] = strings.Join(ids, ",")
	}
}
