// Package mutate fills the HA guide's defaults into a Laminar workload and computes
// the JSON patch from the typed object, so the patch holds only what the rules set.
package mutate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"gomodules.xyz/jsonpatch/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// AnnotationApplyDefaults, set to "true" on a workload, has every UPDATE get
// the defaults, as a CREATE does, even one that leaves the pod template as it
// was: the explicit way to apply pending defaults now, at the cost of a rollout.
const AnnotationApplyDefaults = "ha.laminar.io/apply-defaults"

// Defers reports whether an UPDATE from old to w must leave w's pod template
// as it is: the update does not change the template, and w does not opt in
// with AnnotationApplyDefaults. A change to the template rolls every pod, so
// the first edit of a workload stored before a default existed (a label, the
// replicas) would otherwise roll it for a change nobody made; defaults that
// would change the template wait for the next change that rolls the pods anyway.
func Defers(w, old *workload.Workload) bool {
	return old != nil && w.Meta.Annotations[AnnotationApplyDefaults] != "true" &&
		(w.Template == old.Template || equality.Semantic.DeepEqual(*w.Template, *old.Template))
}

// Apply runs every default rule for the workload, in catalog order, changing it in
// place. It returns the IDs of the rules that changed something and of those an
// exemption annotation, in force at s.Now, switched off.
func Apply(w *workload.Workload, p *policy.Policy, s rules.Situation) (applied, exempted []string) {
	var pristine *corev1.PodTemplateSpec
	if Defers(w, s.Old) {
		pristine = w.Template.DeepCopy()
	}
	applied, _, exempted = apply(w, pristine, p, s)
	return applied, exempted
}

// apply is Apply on UPDATE too: where Defers holds, a rule that would change
// the pod template is undone and listed in deferred; the rest still apply
// (Deployment strategy rolls nothing).
//
// pristine is, where Defers holds, w's pod template as it was before any rule
// ran, which apply never changes: Object passes its input's, Apply a copy.
// Nil where Defers does not hold.
func apply(w *workload.Workload, pristine *corev1.PodTemplateSpec, p *policy.Policy, s rules.Situation) (applied, deferred, exempted []string) {
	ex := exempt.Read(w.Meta.Annotations)
	for r := range rules.Defaults() {
		if !r.AppliesTo(w) || !r.On(p) {
			continue
		}
		if ex.Covers(r.ID, s.Now) {
			exempted = append(exempted, r.ID)
			continue
		}
		if !r.Fill(w, p, s) {
			continue
		}
		if pristine != nil && !equality.Semantic.DeepEqual(*w.Template, *pristine) {
			*w.Template = *pristine.DeepCopy()
			deferred = append(deferred, r.ID)
			continue
		}
		applied = append(applied, r.ID)
	}
	return applied, deferred, exempted
}

// Pending is w as the defaults an UPDATE from old defers would make it, or nil
// when none is deferred. The validating webhook judges w against it: a
// violation the defaults would fix is theirs to fix, not this update's.
func Pending(w, old *workload.Workload, p *policy.Policy, s rules.Situation) *workload.Workload {
	if !Defers(w, old) {
		return nil
	}
	s.Old = nil
	// Defaults write specs only: the copy shares w's metadata, read only.
	filled, _ := workload.FromObject(specCopy(w.Object()))
	if applied, _ := Apply(filled, p, s); len(applied) == 0 || equality.Semantic.DeepEqual(*filled.Template, *w.Template) {
		return nil
	}
	return filled
}

// Result is a mutation of one object.
type Result struct {
	// Object is the mutated copy; the input is never changed. A workload's
	// copy shares the input's metadata and status, which no default writes:
	// change them on a DeepCopy.
	Object runtime.Object
	// Applied lists the rules that set something.
	Applied []string
	// Exempted lists default rules an exemption annotation switched off.
	Exempted []string
	// Deferred lists default rules that would have changed the pod template of
	// an UPDATE that leaves it as it was (see Defers): they wait for its next change.
	Deferred []string
	// Patch turns the input into Object; empty when nothing was applied.
	Patch []jsonpatch.JsonPatchOperation
	// Encoded is Patch as a JSON Patch document (EncodePatch); nil when Patch is empty.
	Encoded []byte
}

// Object mutates a copy of a Laminar Deployment or StatefulSet in situation s
// (its time decides the exemptions in force, its nodes some defaults, its old
// object on UPDATE whether the pod template may change: see Defers). For any other object it returns the copy
// unchanged with no patch. request is the object's JSON as the patch's consumer
// holds it (the admission request); nil means obj's own encoding.
//
// The patch is the difference between two typed encodings, rooted in request, so
// fields this build does not know are neither removed nor touched.
func Object(obj runtime.Object, request []byte, p *policy.Policy, s rules.Situation) (Result, error) {
	in, ok := workload.FromObject(obj)
	if !ok {
		return Result{Object: obj.DeepCopyObject()}, nil
	}
	out := specCopy(obj)
	w, _ := workload.FromObject(out)
	// Asked of the input, which s.Old may be (see Defers): its copy is equal.
	// The input's template is the copy's as it was, and stays so.
	var pristine *corev1.PodTemplateSpec
	if Defers(in, s.Old) {
		pristine = in.Template
	}
	applied, deferred, exempted := apply(w, pristine, p, s)
	return result(obj, out, request, applied, deferred, exempted)
}

// specCopy is a Deployment or StatefulSet with its own copy of the spec, where
// default rules write; metadata and status it shares with obj, read only
// (half of what an API server sends is metadata: managedFields, the
// last-applied annotation).
func specCopy(obj runtime.Object) runtime.Object {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		c := *o
		o.Spec.DeepCopyInto(&c.Spec)
		return &c
	case *appsv1.StatefulSet:
		c := *o
		o.Spec.DeepCopyInto(&c.Spec)
		return &c
	}
	return obj.DeepCopyObject()
}

// Related fills the defaults of an object of kind that routes to targets (an
// Ingress in front of the api's Service), in catalog order, on a copy, as
// Object does for a workload. A rule is run once, for the first target it
// applies to; an exemption on that target, in force at s.Now, switches it off,
// as the related checks read theirs.
func Related(obj runtime.Object, request []byte, kind string, targets []*workload.Workload, p *policy.Policy, s rules.Situation) (Result, error) {
	out := obj.DeepCopyObject()
	var applied, exempted []string
	for r := range rules.RelatedDefaults() {
		if !r.On(p) {
			continue
		}
		i := slices.IndexFunc(targets, func(t *workload.Workload) bool { return r.AppliesTo(kind, t) })
		if i < 0 {
			continue
		}
		if exempt.Read(targets[i].Meta.Annotations).Covers(r.ID, s.Now) {
			exempted = append(exempted, r.ID)
			continue
		}
		if r.Fill(out, targets[i], p, s) {
			applied = append(applied, r.ID)
		}
	}
	return result(obj, out, request, applied, nil, exempted)
}

// result is the mutation of obj into out, with its patch rooted in request.
func result(obj, out runtime.Object, request []byte, applied, deferred, exempted []string) (Result, error) {
	if len(applied) == 0 {
		return Result{Object: out, Exempted: exempted, Deferred: deferred}, nil
	}
	patch, mutated, err := diff(obj, out)
	if err != nil {
		return Result{}, err
	}
	if request == nil {
		if request, err = json.Marshal(obj); err != nil {
			return Result{}, fmt.Errorf("encode object: %w", err)
		}
	}
	if patch, err = rootPatch(request, mutated, patch); err != nil {
		return Result{}, fmt.Errorf("compute patch: %w", err)
	}
	var encoded []byte
	if len(patch) > 0 {
		if encoded, err = EncodePatch(patch); err != nil {
			return Result{}, fmt.Errorf("encode patch: %w", err)
		}
	}
	return Result{Object: out, Applied: applied, Exempted: exempted, Deferred: deferred, Patch: patch, Encoded: encoded}, nil
}

// diff is jsonpatch.CreatePatch between the encodings encodePair gives, and
// the encoding of out's side, for rootPatch, when it needs it. When only the
// spec changed it is computed on the typed specs (typedPatch), which encodes
// and decodes only what changed.
func diff(obj, out runtime.Object) ([]jsonpatch.Operation, func() ([]byte, error), error) {
	if bs, as := specs(obj, out); bs != nil {
		ops, err := typedPatch(bs, as, "/spec")
		switch {
		case err == nil:
			return ops, func() ([]byte, error) { return specDocument(as) }, nil
		case !errors.Is(err, errUntyped):
			return nil, nil, fmt.Errorf("compute patch: %w", err)
		}
	}
	before, after, err := encodePair(obj, out)
	if err != nil {
		return nil, nil, err
	}
	ops, err := jsonpatch.CreatePatch(before, after)
	if err != nil {
		return nil, nil, fmt.Errorf("compute patch: %w", err)
	}
	return ops, func() ([]byte, error) { return after, nil }, nil
}

// specs are the specs of obj and out when a Deployment or StatefulSet changed
// in its spec only; else nil.
func specs(obj, out runtime.Object) (before, after any) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		m := out.(*appsv1.Deployment)
		if o.TypeMeta == m.TypeMeta && reflect.DeepEqual(o.ObjectMeta, m.ObjectMeta) && reflect.DeepEqual(o.Status, m.Status) {
			return &o.Spec, &m.Spec
		}
	case *appsv1.StatefulSet:
		m := out.(*appsv1.StatefulSet)
		if o.TypeMeta == m.TypeMeta && reflect.DeepEqual(o.ObjectMeta, m.ObjectMeta) && reflect.DeepEqual(o.Status, m.Status) {
			return &o.Spec, &m.Spec
		}
	}
	return nil, nil
}

// encodePair returns the two encodings the patch is computed between. Default
// rules change specs only; when everything but the spec is equal, the documents
// hold the spec alone ({"spec":...}): the other members would encode the same
// and give no operation, so the patch is the same, and metadata — with the
// managedFields and last-applied annotation an API server sends, about half of
// the object — is neither encoded twice nor decoded twice by the diff. Otherwise
// they are the whole objects.
func encodePair(obj, out runtime.Object) (before, after []byte, err error) {
	bs, as := specs(obj, out)
	if bs == nil {
		if before, err = json.Marshal(obj); err != nil {
			return nil, nil, fmt.Errorf("encode object: %w", err)
		}
		if after, err = json.Marshal(out); err != nil {
			return nil, nil, fmt.Errorf("encode mutated object: %w", err)
		}
		return before, after, nil
	}
	if before, err = specDocument(bs); err != nil {
		return nil, nil, fmt.Errorf("encode object: %w", err)
	}
	if after, err = specDocument(as); err != nil {
		return nil, nil, fmt.Errorf("encode mutated object: %w", err)
	}
	return before, after, nil
}

// specDocument encodes {"spec":<spec>}, as the spec member of the whole object
// encodes.
func specDocument(spec any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"spec":`)
	enc := json.NewEncoder(&b)
	if err := enc.Encode(spec); err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return append(out, '}'), nil
}
