package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// The verdict check: before Kyverno is timed, every api Deployment and
// controller StatefulSet of the review mix's fixtures (FixtureGlobs: the e2e
// phase's minimal and compliant objects among them) is dry-run created once
// where ours runs and once where Kyverno runs. Both must admit or both deny; and
// what Kyverno admits, as it would be stored (its mutations applied), is
// created again where only our validating webhook runs, which must admit it
// too. Any difference and Kyverno is not timed.

// Outcome is one admission's answer to a dry-run create.
type Outcome struct {
	Allowed bool
	// IDs are the rule IDs in brackets in the denial message, e.g. replicas-min.
	IDs []string
	// Object is what the API server returned (the object as it would be stored)
	// when admitted.
	Object client.Object
	// Err is the denial, or another failure.
	Err error
}

// VerdictRow is one object's answers.
type VerdictRow struct {
	Name          string
	Ours, Kyverno Outcome
	// Revalidated is our validating webhook's answer to the object as Kyverno
	// admitted it; nil when Kyverno denied it.
	Revalidated *Outcome
	// SameSpec says whether Kyverno's admitted object has the same spec as ours.
	SameSpec bool
	// Differs names the first spec fields that differ, when SameSpec is false.
	Differs []string
}

// Agrees says whether Kyverno reached our verdict on this object.
func (r VerdictRow) Agrees() bool {
	if r.Ours.Allowed != r.Kyverno.Allowed {
		return false
	}
	if r.Kyverno.Allowed {
		return r.Revalidated != nil && r.Revalidated.Allowed
	}
	return true
}

// CompareVerdicts is nil when Kyverno agrees with ours on every row, else an
// error naming each disagreement.
func CompareVerdicts(rows []VerdictRow) error {
	if len(rows) == 0 {
		return errors.New("verdict check: no objects compared")
	}
	var errs []error
	for _, r := range rows {
		if r.Agrees() {
			continue
		}
		switch {
		case r.Ours.Allowed != r.Kyverno.Allowed:
			errs = append(errs, fmt.Errorf("%s: laminar %s, kyverno %s", r.Name, verdictWord(r.Ours), verdictWord(r.Kyverno)))
		case r.Revalidated == nil:
			errs = append(errs, fmt.Errorf("%s: kyverno admitted it, and its object was not validated by ours", r.Name))
		default:
			errs = append(errs, fmt.Errorf("%s: kyverno admitted it, and our validating webhook denies the object it admitted: %v", r.Name, r.Revalidated.Err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kyverno's verdicts differ from ours on %d of %d objects; not timing it:\n%w", len(errs), len(rows), errors.Join(errs...))
	}
	return nil
}

func verdictWord(o Outcome) string {
	if o.Allowed {
		return "admits"
	}
	if len(o.IDs) == 0 {
		return fmt.Sprintf("denies (%v)", o.Err)
	}
	return "denies [" + strings.Join(o.IDs, " ") + "]"
}

// PrintVerdicts writes the check, one line per object.
func PrintVerdicts(out io.Writer, rows []VerdictRow) error {
	agree := 0
	for _, r := range rows {
		if r.Agrees() {
			agree++
		}
	}
	fmt.Fprintf(out, "verdict check: kyverno vs laminar on %d objects (dry-run creates; what kyverno admits is then checked by our validating webhook alone): %d agree\n", len(rows), agree)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "object\tlaminar\tkyverno\tours validates kyverno's object\tsame spec as ours\t")
	for _, r := range rows {
		reval, same := "-", "-"
		if r.Revalidated != nil {
			reval = "yes"
			if !r.Revalidated.Allowed {
				reval = "NO " + verdictWord(*r.Revalidated)
			}
			same = "yes"
			if !r.SameSpec {
				same = "no: " + strings.Join(r.Differs, ", ")
			}
		}
		mark := ""
		if !r.Agrees() {
			mark = "  <-- differs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, verdictWord(r.Ours), verdictWord(r.Kyverno), reval, same, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(out)
	return err
}

// ruleIDPattern is a rule ID in brackets: lower-case words joined by hyphens
// (not a list index such as containers[0]).
var ruleIDPattern = regexp.MustCompile(`\[([a-z]+(?:-[a-z0-9]+)+)\]`)

// ruleIDs are the distinct bracketed rule IDs of a denial, sorted.
func ruleIDs(err error) []string {
	if err == nil {
		return nil
	}
	var ids []string
	for _, m := range ruleIDPattern.FindAllStringSubmatch(err.Error(), -1) {
		if !slices.Contains(ids, m[1]) {
			ids = append(ids, m[1])
		}
	}
	sort.Strings(ids)
	return ids
}

// NamedObject is a fixture object with a name for the report.
type NamedObject struct {
	Name   string
	Object client.Object
}

// VerdictObjects are the apps/v1 Deployments and StatefulSets of the review
// mix's fixtures whose app label is a Laminar role or absent (an unrelated
// workload), each named by its file.
func VerdictObjects(root string) ([]NamedObject, error) {
	var out []NamedObject
	for _, g := range FixtureGlobs {
		paths, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if strings.HasSuffix(p, ".policy.yaml") {
				continue
			}
			objs, err := readFixture(p)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				var kind string
				switch o.(type) {
				case *appsv1.Deployment:
					kind = "Deployment"
				case *appsv1.StatefulSet:
					kind = "StatefulSet"
				default:
					continue
				}
				rel, _ := filepath.Rel(root, p)
				out = append(out, NamedObject{Name: rel + " (" + kind + ")", Object: o})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Deployment or StatefulSet in %s", strings.Join(FixtureGlobs, ", "))
	}
	return out, nil
}

func readFixture(path string) ([]client.Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := devenv.DecodeObjects(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// verdictCheck runs every object through ours (nsOurs), through Kyverno
// (nsKyverno), and what Kyverno admits through our validating webhook alone
// (nsValidate).
func verdictCheck(ctx context.Context, env *devenv.Env, objs []NamedObject, nsOurs, nsKyverno, nsValidate string) ([]VerdictRow, error) {
	var rows []VerdictRow
	for _, no := range objs {
		row := VerdictRow{Name: no.Name}
		var err error
		if row.Ours, err = admitDryRun(ctx, env, no.Object, nsOurs); err != nil {
			return nil, fmt.Errorf("%s in %s: %w", no.Name, nsOurs, err)
		}
		if row.Kyverno, err = admitDryRun(ctx, env, no.Object, nsKyverno); err != nil {
			return nil, fmt.Errorf("%s in %s: %w", no.Name, nsKyverno, err)
		}
		if row.Kyverno.Allowed {
			again := asSubmitted(row.Kyverno.Object)
			reval, err := admitDryRun(ctx, env, again, nsValidate)
			if err != nil {
				return nil, fmt.Errorf("%s (kyverno's object) in %s: %w", no.Name, nsValidate, err)
			}
			row.Revalidated = &reval
			if row.Ours.Allowed {
				row.Differs = specDiff(row.Ours.Object, row.Kyverno.Object, 3)
				row.SameSpec = len(row.Differs) == 0
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// admitDryRun dry-run creates a copy of obj in ns. A denial is an Outcome; only
// a failure to ask is an error.
func admitDryRun(ctx context.Context, env *devenv.Env, obj client.Object, ns string) (Outcome, error) {
	o, err := dryRun(ctx, env, obj, ns)
	switch {
	case err == nil:
		return Outcome{Allowed: true, Object: o}, nil
	case isDenial(err):
		return Outcome{IDs: ruleIDs(err), Err: err}, nil
	default:
		return Outcome{}, err
	}
}

// isDenial tells an admission denial from a failure to reach the API server
// or a webhook.
func isDenial(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "admission webhook") && strings.Contains(msg, "denied the request")
}

// asSubmitted is obj as a client would send it again: without the fields the
// API server sets on create.
func asSubmitted(obj client.Object) client.Object {
	o := obj.DeepCopyObject().(client.Object)
	o.SetUID("")
	o.SetResourceVersion("")
	o.SetGeneration(0)
	o.SetCreationTimestamp(metav1.Time{})
	o.SetManagedFields(nil)
	switch w := o.(type) {
	case *appsv1.Deployment:
		w.Status = appsv1.DeploymentStatus{}
	case *appsv1.StatefulSet:
		w.Status = appsv1.StatefulSetStatus{}
	}
	return o
}

// specDiff names up to max paths where the two objects' specs differ.
func specDiff(a, b client.Object, max int) []string {
	ua, err1 := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	ub, err2 := runtime.DefaultUnstructuredConverter.ToUnstructured(b)
	if err1 != nil || err2 != nil {
		return []string{"(not comparable)"}
	}
	var out []string
	diffPaths("spec", ua["spec"], ub["spec"], &out)
	sort.Strings(out)
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("… %d more", len(out)-max))
	}
	return out
}

func diffPaths(path string, a, b any, out *[]string) {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			diffPaths(path+"."+k, ma[k], mb[k], out)
		}
		return
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB && len(la) == len(lb) {
		for i := range la {
			diffPaths(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, path)
	}
}
