package admit

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/review"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// NewMutator is the mutating webhook: it fills HA defaults into Laminar workloads.
func NewMutator(c Config) *Handler {
	return c.handler(WebhookMutate, mutationGate, requestKind, readWorkload(mutateWorkload))
}

// NewValidator is the validating webhook of Laminar workloads: it denies those
// that break HA minimums and warns on soft items.
func NewValidator(c Config) *Handler {
	return c.handler(WebhookValidate, enforcementGate, requestKind, readWorkload(validateWorkloadIn(c)))
}

func requestKind(req admission.Request) string { return req.Kind.Kind }

// workloadJudge judges a decoded Laminar workload.
type workloadJudge func(req admission.Request, w *workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation)

// readWorkload reads a Deployment or StatefulSet request: other kinds, objects
// that are not Laminar's and objects being deleted are not judged.
func readWorkload(judge workloadJudge) func(ctx context.Context, req admission.Request) reading {
	return func(_ context.Context, req admission.Request) reading {
		gvk := schema.GroupVersionKind(req.Kind)
		if gvk != workload.DeploymentGVK && gvk != workload.StatefulSetGVK {
			return skipped(fmt.Sprintf("kind %s is not judged", gvk.String()))
		}
		obj, inPass := review.Object(req.Object, gvk)
		if !inPass {
			var err error
			if obj, err = workload.Decode(gvk, req.Object.Raw); err != nil {
				return unreadable(err)
			}
		}
		w, ok := workload.FromObject(obj)
		if !ok {
			return skipped("not a Laminar workload")
		}
		// Updates during deletion only remove finalizers; blocking them would leave the
		// object stuck in Terminating.
		if w.Meta.DeletionTimestamp != nil {
			return skipped("object is being deleted")
		}
		if w.Meta.Name == "" && req.Name != "" {
			w.Meta.Name = req.Name
		}
		// Rules (budgets, permissions) look in the namespace the API server names,
		// never one the body claims; the API server refuses the two differing anyway.
		if req.Namespace != "" {
			w.Meta.Namespace = req.Namespace
		}
		// The namespace switch is read from the namespace the API server names.
		return reading{
			subject: Subject{Kind: gvk.Kind, Role: w.Role, GroupKind: w.GroupKind(), Name: w.Name(),
				Namespace: req.Namespace, Exemption: exempt.Read(w.Meta.Annotations)},
			judge: judge(req, w),
		}
	}
}

// mutateObject is mutate.Object; tests replace it to make a mutation fail.
var mutateObject = mutate.Object

func mutateWorkload(req admission.Request, w *workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation) {
	return func(v *Verdict, p *policy.Policy, _ string, s rules.Situation) {
		if req.Operation == admissionv1.Update {
			s.Old = oldWorkload(req, w)
		}
		res, err := mutateObject(w.Object(), req.Object.Raw, p, s)
		if err != nil {
			v.Err, v.Code = err, http.StatusInternalServerError
			return
		}
		v.Mutation = &res
	}
}

// validateWorkloadIn judges a workload. On an UPDATE whose pod template
// mutation had to leave as it was, it judges it against the defaults mutation
// deferred, unless mutation is off in the namespace: then no default will
// ever land, and nothing is pending.
func validateWorkloadIn(c Config) workloadJudge {
	return func(req admission.Request, w *workload.Workload) func(v *Verdict, p *policy.Policy, mode string, s rules.Situation) {
		return func(v *Verdict, p *policy.Policy, mode string, s rules.Situation) {
			ctx := validate.Context{Mode: mode, Situation: s}
			if req.Operation == admissionv1.Update {
				ctx.Old = oldWorkload(req, w)
				if m, _ := p.MutateMode(namespaceLabels(s.Ctx, c.Namespaces, w.Meta.Namespace)); m != policy.MutateOff {
					ctx.Pending = mutate.Pending(w, ctx.Old, p, s)
				}
			}
			d := validate.Judge(w, p, ctx)
			v.Decision = &d
		}
	}
}

// oldWorkload decodes the stored object of an UPDATE; nil when it is absent,
// unreadable or was not a Laminar workload (then nothing is ratcheted). When it
// is the written object byte for byte — a re-apply that changes nothing, as
// GitOps controllers send on every sync — it is w, decoded already: nothing
// judges or mutates either in place.
func oldWorkload(req admission.Request, w *workload.Workload) *workload.Workload {
	if len(req.OldObject.Raw) > 0 && bytes.Equal(req.OldObject.Raw, req.Object.Raw) {
		return w
	}
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
