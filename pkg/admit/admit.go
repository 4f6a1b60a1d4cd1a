// Package admit adapts the mutate and validate engines to admission requests: it
// decides which requests are judged, decodes them, and shapes the responses.
package admit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Audit annotation keys; the API server prefixes them with the webhook's name.
const (
	AuditDefaults   = "defaults-applied"
	AuditViolations = "violations"
	AuditRole       = "role"
)

// PolicySource returns the policy in force for one request.
type PolicySource func() *policy.Policy

// Static always returns p.
func Static(p *policy.Policy) PolicySource { return func() *policy.Policy { return p } }

// subject is a request the webhook judges.
type subject struct {
	workload *workload.Workload
}

// decode decides whether req is judged. When it is not, or cannot be read, the
// returned response is the answer and subject is nil.
func decode(req admission.Request) (*subject, *admission.Response) {
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		r := admission.Allowed(fmt.Sprintf("operation %s is not judged", req.Operation))
		return nil, &r
	}
	gvk := schema.GroupVersionKind(req.Kind)
	if gvk != workload.DeploymentGVK && gvk != workload.StatefulSetGVK {
		r := admission.Allowed(fmt.Sprintf("kind %s is not judged", gvk.String()))
		return nil, &r
	}
	obj, err := workload.Decode(gvk, req.Object.Raw)
	if err != nil {
		r := admission.Errored(http.StatusBadRequest, err)
		return nil, &r
	}
	w, ok := workload.FromObject(obj)
	if !ok {
		r := admission.Allowed("not a Laminar workload")
		return nil, &r
	}
	// Updates during deletion only remove finalizers; blocking them would leave the
	// object stuck in Terminating.
	if w.Meta.DeletionTimestamp != nil {
		r := admission.Allowed("object is being deleted")
		return nil, &r
	}
	if w.Meta.Name == "" && req.Name != "" {
		w.Meta.Name = req.Name
	}
	return &subject{workload: w}, nil
}

// Mutator fills HA defaults into Laminar workloads.
type Mutator struct {
	Policy PolicySource
}

// Handle implements admission.Handler.
func (m *Mutator) Handle(_ context.Context, req admission.Request) admission.Response {
	s, done := decode(req)
	if done != nil {
		return *done
	}
	res, err := mutate.Object(s.workload.Object(), req.Object.Raw, m.Policy())
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if len(res.Patch) == 0 {
		resp := admission.Allowed("HA defaults already in place")
		resp.AuditAnnotations = map[string]string{AuditRole: string(s.workload.Role)}
		return resp
	}
	resp := admission.Patched("HA defaults applied: "+strings.Join(res.Applied, ","), res.Patch...)
	resp.AuditAnnotations = map[string]string{
		AuditRole:     string(s.workload.Role),
		AuditDefaults: strings.Join(res.Applied, ","),
	}
	return resp
}

// Validator denies Laminar workloads that break HA minimums and warns on soft items.
type Validator struct {
	Policy PolicySource
}

// Handle implements admission.Handler.
func (v *Validator) Handle(_ context.Context, req admission.Request) admission.Response {
	s, done := decode(req)
	if done != nil {
		return *done
	}
	res := validate.Workload(s.workload, v.Policy())
	audit := map[string]string{AuditRole: string(s.workload.Role)}
	if ids := res.RuleIDs(); len(ids) > 0 {
		audit[AuditViolations] = strings.Join(ids, ",")
	}
	var resp admission.Response
	if err := res.Error(s.workload); err != nil {
		var st *apierrors.StatusError
		if !errors.As(err, &st) {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		resp = admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st.ErrStatus}}
	} else {
		resp = admission.Allowed("meets the Laminar HA rules")
	}
	resp.AuditAnnotations = audit
	return resp.WithWarnings(res.Warnings()...)
}
