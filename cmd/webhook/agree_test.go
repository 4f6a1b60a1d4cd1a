package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/offline"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// fixtureDirs hold every manifest the project ships; examples/ only if present.
var fixtureDirs = []string{"test/testdata/mutate", "test/testdata/admission", "test/testdata/cli", "examples"}

// policyFor follows the fixtures' convention: x.yaml (and its golden output
// x.golden.yaml) is judged under x.policy.yaml when that file exists.
func policyFor(file string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(file, ".yaml"), ".json"), ".golden")
	if strings.HasSuffix(base, ".policy") {
		return ""
	}
	if _, err := os.Stat(base + ".policy.yaml"); err == nil {
		return base + ".policy.yaml"
	}
	return ""
}

// finding is a violation as both sides can state it: outcome, rule and field.
type finding struct{ Outcome, Rule, Field string }

// inputNamespaces gives the admission handlers the Namespace objects of a file,
// as a cluster holding them would.
type inputNamespaces map[string]map[string]string

func (n inputNamespaces) Labels(_ context.Context, name string) (map[string]string, bool) {
	l, ok := n[name]
	return l, ok
}

func namespacesOf(t *testing.T, docs []manifest.Document) inputNamespaces {
	ns := inputNamespaces{}
	for _, d := range docs {
		c, err := d.Objects()
		if err != nil {
			continue
		}
		for _, o := range c.Objects {
			if o.GVK.Kind == "Namespace" && o.GVK.Group == "" {
				var meta struct {
					Metadata struct {
						Name   string
						Labels map[string]string
					}
				}
				require.NoError(t, json.Unmarshal(o.JSON, &meta))
				ns[meta.Metadata.Name] = meta.Metadata.Labels
			}
		}
	}
	return ns
}

var ruleIDInMessage = regexp.MustCompile(`\[([a-z0-9-]+)\]`)

// TestCLIAgreesWithWebhook runs every fixture through the CLI (check -o json and
// mutate, in-process) and, object by object, through the admission handlers the
// server runs: admit.Mutator, its JSON patch applied to the request object as
// the API server does, then admit.Validator on the result. Both must reach the
// same verdict, with the same rules on the same fields, the same defaults, and
// the same mutated object.
func TestCLIAgreesWithWebhook(t *testing.T) {
	t.Chdir(repoRoot)
	var files []string
	for _, dir := range fixtureDirs {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			continue
		}
		for _, src := range offline.Read([]string{dir}, nil, "") {
			require.NoError(t, src.Err, src.Name)
			files = append(files, src.Name)
		}
	}
	require.Greater(t, len(files), 20)

	judged := 0
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			var policyArgs []string
			polPath := policyFor(file)
			if polPath != "" {
				policyArgs = []string{"--policy", polPath}
			}
			p, err := policy.Load(polPath)
			require.NoError(t, err)

			// The CLI's side.
			_, stdout, stderr := cli(t, nil, append(append([]string{"check", "--trust-namespace-labels", "-o", "json"}, policyArgs...), "-f", file)...)
			var rep report.Report
			require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stderr)
			_, mutated, _ := cli(t, nil, append(append([]string{"mutate", "--trust-namespace-labels"}, policyArgs...), "-f", file)...)

			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			inDocs := nonEmpty(manifest.Split(raw))
			outDocs := nonEmpty(manifest.Split([]byte(mutated)))
			require.Len(t, outDocs, len(inDocs), "mutate prints every document")

			ns := namespacesOf(t, inDocs)
			// The file's workloads, budgets and autoscalers are the cluster of
			// both sides, as its Namespaces are.
			var all []manifest.Object
			for _, doc := range inDocs {
				if content, err := doc.Objects(); err == nil {
					all = append(all, content.Objects...)
				}
			}
			view, err := offline.ClusterView(all)
			require.NoError(t, err)
			seen := 0
			for d, doc := range inDocs {
				content, err := doc.Objects()
				if err != nil {
					assert.True(t, hasError(rep, doc.Index, 0), "document %d: the CLI reports %v", doc.Index, err)
					assert.Equal(t, string(doc.Text), string(outDocs[d].Text), "mutate prints an unreadable document as it came")
					continue
				}
				outContent, outErr := outDocs[d].Objects()
				for _, o := range content.Objects {
					if o.Typed == nil && o.Err == nil {
						continue // not a kind the webhook configurations send
					}
					wh := webhook(t, p, ns, view, o)
					cliObj, found := findObject(rep, doc.Index, o.Item)
					switch {
					case o.Err != nil:
						assert.Equal(t, int32(http.StatusBadRequest), wh.mutate.Result.Code, "the webhook cannot read it either")
						assert.True(t, hasError(rep, doc.Index, o.Item), "document %d item %d: the CLI reports it", doc.Index, o.Item)
						continue
					case !wh.laminar:
						assert.False(t, found, "document %d: not Laminar's, so not judged", doc.Index)
						assert.True(t, wh.validate.Allowed)
						assert.Empty(t, wh.mutate.Patch)
						continue
					}
					seen++
					require.True(t, found, "document %d item %d: judged by the webhook but not by the CLI", doc.Index, o.Item)
					assert.Equal(t, wh.validate.Allowed, cliObj.Allowed, "allowed")
					var denials, warnings []finding
					var exempted []string
					for _, v := range cliObj.Violations {
						switch v.Outcome {
						case report.OutcomeDeny:
							denials = append(denials, finding{v.Outcome, v.RuleID, v.Field})
						case report.OutcomeWarn, report.OutcomeAudit:
							warnings = append(warnings, finding{v.Outcome, v.RuleID, v.Field})
						case report.OutcomeExempt:
							if !slices.Contains(exempted, v.RuleID) {
								exempted = append(exempted, v.RuleID)
							}
						default:
							t.Errorf("unknown outcome %q", v.Outcome)
						}
					}
					assert.Equal(t, wh.denials, denials, "denials")
					assert.Equal(t, wh.warnings, warnings, "warnings")
					assert.Equal(t, wh.notes, cliObj.Notes, "notes")
					assert.Equal(t, wh.exempted, exempted, "exempted checks")
					assert.Equal(t, wh.enforce, cliObj.Enforce, "enforcement mode")
					assert.Equal(t, wh.mutateMode, cliObj.Mutate, "mutation switch")
					assert.Equal(t, wh.applied, cliObj.DefaultsApplied, "defaults applied")
					assert.Equal(t, wh.defaultsExempted, cliObj.DefaultsExempted, "exempted defaults")

					// The same mutated object: the webhook's patch on the request
					// object, and the CLI's mutate output.
					require.NoError(t, outErr)
					var cliTyped runtime.Object
					for _, oo := range outContent.Objects {
						if oo.Item == o.Item {
							cliTyped = oo.Typed
						}
					}
					require.NotNil(t, cliTyped, "document %d item %d in mutate's output", doc.Index, o.Item)
					assert.Equal(t, wh.mutated, cliTyped, "mutated object")
				}
			}
			// Services and Ingresses are judged against the input's workloads as
			// a cluster; the handlers here have none, so only workloads are
			// compared (the routing verdicts: the CLI goldens and test/e2e).
			workloads := 0
			for _, o := range rep.Objects {
				if o.Kind == workload.KindDeployment || o.Kind == workload.KindStatefulSet {
					workloads++
				}
			}
			assert.Equal(t, seen, workloads, "every workload the CLI judged was judged by the webhook")
			judged += seen
		})
	}
	assert.Greater(t, judged, 20, "Laminar objects compared")
}

func nonEmpty(docs []manifest.Document) []manifest.Document {
	var out []manifest.Document
	for _, d := range docs {
		if strings.TrimSpace(string(d.Text)) != "" {
			out = append(out, d)
		}
	}
	return out
}

func findObject(rep report.Report, doc, item int) (report.Object, bool) {
	for _, o := range rep.Objects {
		if o.Document == doc && o.Item == item {
			return o, true
		}
	}
	return report.Object{}, false
}

func hasError(rep report.Report, doc, item int) bool {
	for _, e := range rep.Errors {
		if e.Document == doc && e.Item == item {
			return true
		}
	}
	return false
}

// webhookResult is what the two admission handlers said about one object.
type webhookResult struct {
	laminar             bool
	mutate              admission.Response
	validate            admission.Response
	enforce, mutateMode string
	applied             []string
	defaultsExempted    []string
	denials             []finding
	warnings            []finding
	exempted            []string
	notes               []string
	mutated             runtime.Object
}

// auditPrefix is what the validating handler puts on a deny rule it only warns about.
const auditPrefix = validate.PrefixAudit

// webhook sends one object through admit.Mutator and admit.Validator as a CREATE.
func webhook(t *testing.T, p *policy.Policy, ns inputNamespaces, view rules.View, o manifest.Object) webhookResult {
	t.Helper()
	ctx := context.Background()
	src := admit.Static(p)
	var meta struct {
		Metadata struct{ Name, Namespace string } `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(o.JSON, &meta))
	req := func(obj []byte) admission.Request {
		return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID:       "agree",
			Kind:      metav1.GroupVersionKind{Group: o.GVK.Group, Version: o.GVK.Version, Kind: o.GVK.Kind},
			Resource:  metav1.GroupVersionResource{Group: o.GVK.Group, Version: o.GVK.Version, Resource: strings.ToLower(o.GVK.Kind) + "s"},
			Name:      meta.Metadata.Name,
			Namespace: meta.Metadata.Namespace,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: obj},
		}}
	}
	var r webhookResult
	r.mutate = (admit.NewMutator(admit.Config{Policy: src, Namespaces: ns, Cluster: view, Access: clusterAdmin{}})).Handle(ctx, req(o.JSON))
	if o.Err != nil {
		return r
	}
	w, laminar := workload.FromObject(o.Typed)
	r.laminar = laminar && w.Meta.DeletionTimestamp == nil
	require.True(t, r.mutate.Allowed, "the mutating webhook never denies: %v", r.mutate.Result)
	r.mutateMode = strings.TrimPrefix(r.mutate.AuditAnnotations[admit.AuditMode], "mutate-")
	r.defaultsExempted = splitList(r.mutate.AuditAnnotations[admit.AuditExempted])
	r.notes = append(r.notes, r.mutate.Warnings...)

	patched := o.JSON
	if len(r.mutate.Patch) > 0 {
		ops := r.mutate.Patch
		patch, err := jsonpatch.DecodePatch(ops)
		require.NoError(t, err)
		patched, err = patch.Apply(o.JSON)
		require.NoError(t, err)
	}
	r.applied = splitList(r.mutate.AuditAnnotations[admit.AuditDefaults])
	if r.applied == nil {
		r.applied = []string{}
	}
	content, err := manifest.ObjectsFromJSON(patched)
	require.NoError(t, err)
	require.Len(t, content.Objects, 1)
	r.mutated = content.Objects[0].Typed

	r.validate = (admit.NewValidator(admit.Config{Policy: src, Namespaces: ns, Cluster: view, Access: clusterAdmin{}})).Handle(ctx, req(patched))
	r.enforce = r.validate.AuditAnnotations[admit.AuditMode]
	r.exempted = splitList(r.validate.AuditAnnotations[admit.AuditExempted])
	if !r.validate.Allowed {
		require.NotNil(t, r.validate.Result)
		require.NotNil(t, r.validate.Result.Details, "a denial carries causes")
		for _, c := range r.validate.Result.Details.Causes {
			m := ruleIDInMessage.FindStringSubmatch(c.Message)
			require.NotNil(t, m, "cause %q names its rule", c.Message)
			r.denials = append(r.denials, finding{report.OutcomeDeny, m[1], c.Field})
		}
	}
	for _, w := range r.validate.Warnings {
		outcome := report.OutcomeWarn
		if rest, ok := strings.CutPrefix(w, auditPrefix); ok {
			outcome, w = report.OutcomeAudit, rest
		}
		field, rest, ok := strings.Cut(w, ": [")
		if !ok {
			if !slices.Contains(r.notes, w) {
				r.notes = append(r.notes, w) // a note, such as a namespace label ignored
			}
			continue
		}
		id, _, _ := strings.Cut(rest, "]")
		r.warnings = append(r.warnings, finding{outcome, id, field})
	}
	return r
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// clusterAdmin answers permission questions as the API server does for the
// cluster admin who applies the fixtures in the e2e agreement test: yes.
type clusterAdmin struct{}

func (clusterAdmin) Review(context.Context, authenticationv1.UserInfo, string, string, string, string) (bool, error) {
	return true, nil
}
