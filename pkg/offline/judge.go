package offline

import (
	"encoding/json"
	"fmt"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// parsedDoc is one document of one source, read once.
type parsedDoc struct {
	doc     manifest.Document
	content manifest.Content
	err     error
}

// parsedSource is a source cut into documents.
type parsedSource struct {
	Source
	docs []parsedDoc
}

// Namespaces holds the labels of the Namespace objects found in the input, which
// play the part of the cluster's namespaces: their ha.laminar.io/enforce and
// ha.laminar.io/mutate labels switch the webhook per namespace.
type Namespaces map[string]map[string]string

// parseAll reads every source's documents, and the Namespaces among them (a
// later Namespace of the same name wins, as a later apply would).
func parseAll(srcs []Source) ([]parsedSource, Namespaces) {
	ns := Namespaces{}
	out := make([]parsedSource, 0, len(srcs))
	for _, src := range srcs {
		ps := parsedSource{Source: src}
		if src.Err == nil {
			for _, doc := range manifest.Split(src.Data) {
				pd := parsedDoc{doc: doc}
				if !doc.Blank() {
					pd.content, pd.err = doc.Objects()
				}
				for _, o := range pd.content.Objects {
					if o.GVK.Group == "" && o.GVK.Version == "v1" && o.GVK.Kind == "Namespace" {
						var meta struct {
							Metadata struct {
								Name   string            `json:"name"`
								Labels map[string]string `json:"labels"`
							} `json:"metadata"`
						}
						if json.Unmarshal(o.JSON, &meta) == nil && meta.Metadata.Name != "" {
							ns[meta.Metadata.Name] = meta.Metadata.Labels
						}
					}
				}
				ps.docs = append(ps.docs, pd)
			}
		}
		out = append(out, ps)
	}
	return out, ns
}

// switches are the webhook's per-namespace settings for one object.
type switches struct {
	enforce string // policy.ModeDeny, ModeWarn or ModeOff
	mutate  string // policy.MutateOn or MutateOff
	notes   []string
}

// switchesFor reads the switches as the admission handlers do: the namespace's
// label when it has one with an allowed value, else the policy's default (with a
// note when the label's value is not allowed). An object without a namespace, or
// in a namespace the input does not define, gets the policy's defaults, as the
// webhook does for a namespace it does not know.
func switchesFor(w *workload.Workload, p *policy.Policy, ns Namespaces) switches {
	labels := ns[w.Meta.Namespace]
	var s switches
	var note string
	s.enforce, note = p.EnforceMode(labels)
	if note != "" {
		s.notes = append(s.notes, note)
	}
	s.mutate, note = p.MutateMode(labels)
	if note != "" {
		s.notes = append(s.notes, note)
	}
	return s
}

// judged is one Laminar object after the engine.
type judged struct {
	// Workload is the object judged: mutated, unless judged as written or mutation
	// is off in its namespace.
	Workload *workload.Workload
	Switches switches
	// Mutation is the mutating webhook's result; zero when it did not run.
	Mutation mutate.Result
	Mutated  bool
	// Decision is the validating webhook's; empty when enforcement is off.
	Decision validate.Decision
}

// judgeable reports whether the webhook judges the object at all: a Laminar
// workload that is not being deleted.
func judgeable(o manifest.Object) (*workload.Workload, bool) {
	if o.Typed == nil || o.Err != nil {
		return nil, false
	}
	w, ok := workload.FromObject(o.Typed)
	if !ok || w.Meta.DeletionTimestamp != nil {
		return nil, false
	}
	return w, true
}

// mutateObject runs the mutating webhook's step on one object, honouring the
// namespace's mutate switch; ok is false when the object is not judged at all.
func mutateObject(o manifest.Object, p *policy.Policy, ns Namespaces) (res mutate.Result, s switches, ran, ok bool, err error) {
	w, ok := judgeable(o)
	if !ok {
		return mutate.Result{}, switches{}, false, false, nil
	}
	s = switchesFor(w, p, ns)
	if s.mutate == policy.MutateOff {
		return mutate.Result{}, s, false, true, nil
	}
	res, err = mutate.Object(o.Typed, o.JSON, p)
	if err != nil {
		return mutate.Result{}, s, false, true, fmt.Errorf("mutate: %w", err)
	}
	return res, s, true, true, nil
}

// judge runs both webhook steps on one object, as a CREATE: mutation (unless
// asWritten or off in the namespace), then validation of the result with the
// namespace's enforcement mode and the object's exemptions. nil when the object
// is not judged at all.
func judge(o manifest.Object, p *policy.Policy, ns Namespaces, asWritten bool) (*judged, error) {
	w, ok := judgeable(o)
	if !ok {
		return nil, nil
	}
	j := &judged{Workload: w, Switches: switchesFor(w, p, ns)}
	if !asWritten {
		res, _, ran, _, err := mutateObject(o, p, ns)
		if err != nil {
			return nil, err
		}
		if ran {
			mw, ok := workload.FromObject(res.Object)
			if !ok {
				return nil, fmt.Errorf("mutate: the mutated object is no longer a Laminar workload")
			}
			j.Workload, j.Mutation, j.Mutated = mw, res, true
		}
	}
	if j.Switches.enforce != policy.ModeOff {
		j.Decision = validate.Judge(j.Workload, p, validate.Context{Mode: j.Switches.enforce, Now: exempt.Now()})
	}
	return j, nil
}
