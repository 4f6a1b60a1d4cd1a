package offline_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/offline"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
)

const apiMinimal = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: laminar-api
  labels: {app: laminar-api}
spec:
  replicas: 3
  selector: {matchLabels: {app: laminar-api}}
  template:
    metadata:
      labels: {app: laminar-api}
    spec:
      containers:
        - name: api
          image: laminar:1
`

func write(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func names(srcs []offline.Source) []string {
	var out []string
	for _, s := range srcs {
		n := s.Name
		if s.Err != nil {
			n += " (error)"
		}
		out = append(out, n)
	}
	return out
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.yaml", "b")
	write(t, dir, "a/z.YML", "z")
	write(t, dir, "a/y.json", "{}")
	write(t, dir, "a/notes.md", "no")
	write(t, dir, ".git/config.yaml", "skipped")
	write(t, dir, "a/.cache/x.yaml", "skipped")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty"), 0o755))
	single := write(t, dir, "single.txt", "any extension when named")

	srcs := offline.Read([]string{dir, "-", single, filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "empty"), "-"},
		strings.NewReader("from stdin"), "piped.yaml")
	assert.Equal(t, []string{
		filepath.Join(dir, "a/y.json"),
		filepath.Join(dir, "a/z.YML"),
		filepath.Join(dir, "b.yaml"),
		"piped.yaml",
		single,
		filepath.Join(dir, "missing.yaml") + " (error)",
		filepath.Join(dir, "empty") + " (error)",
		"piped.yaml (error)",
	}, names(srcs))
	require.Len(t, srcs, 8)
	assert.Equal(t, "from stdin", string(srcs[3].Data))
	assert.EqualError(t, srcs[5].Err, "no such file or directory")
	assert.ErrorContains(t, srcs[6].Err, "holds no .yaml, .yml, .json file")
	assert.ErrorContains(t, srcs[7].Err, "more than once")

	stdin := offline.Read([]string{"-"}, strings.NewReader(""), "")
	require.Len(t, stdin, 1)
	assert.Equal(t, offline.StdinName, stdin[0].Name)
}

func TestCheckCountsAndOrder(t *testing.T) {
	srcs := []offline.Source{
		{Name: "one.yaml", Data: []byte("# licence\n---\n" + apiMinimal + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n")},
		{Name: "bad.yaml", Err: os.ErrPermission},
		{Name: "two.yaml", Data: []byte(strings.Replace(apiMinimal, "replicas: 3", "replicas: 1", 1))},
	}
	r := offline.Check(srcs, offline.Options{})
	assert.Equal(t, 2, r.Summary.Files)
	assert.Equal(t, 4, r.Summary.Documents, "the licence header is no document; the empty last one is")
	require.Len(t, r.Objects, 2)
	assert.Equal(t, "one.yaml", r.Objects[0].File)
	assert.Equal(t, 1, r.Objects[0].Document)
	assert.Equal(t, 3, r.Objects[0].Line)
	assert.True(t, r.Objects[0].Allowed)
	assert.NotEmpty(t, r.Objects[0].DefaultsApplied)
	assert.Equal(t, "two.yaml", r.Objects[1].File)
	assert.False(t, r.Objects[1].Allowed)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "bad.yaml", r.Errors[0].File)
	assert.True(t, r.Mutated)

	asWritten := offline.Check(srcs[:1], offline.Options{AsWritten: true, Policy: policy.Default()})
	assert.False(t, asWritten.Mutated)
	require.NotEmpty(t, asWritten.Objects)
	assert.False(t, asWritten.Objects[0].Allowed, "no probes as written")
	assert.Empty(t, asWritten.Objects[0].DefaultsApplied)
}

func TestMutateStream(t *testing.T) {
	in := "# licence\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n--- # the api\n" + apiMinimal + "---\n\n---\n# empty template\n"
	var out bytes.Buffer
	stats, errs, err := offline.Mutate(&out, []offline.Source{
		{Name: "a.yaml", Data: []byte(in)},
		{Name: "b.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}")},
	}, offline.Options{})
	require.NoError(t, err)
	assert.Empty(t, errs)
	assert.Equal(t, offline.MutateStats{Documents: 5, Mutated: 1}, stats)
	got := out.String()
	assert.True(t, strings.HasPrefix(got, "# licence\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n--- # the api\napiVersion: apps/v1\n"), got)
	assert.Contains(t, got, "maxUnavailable: 0")
	assert.True(t, strings.HasSuffix(got, "---\n# empty template\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), got)
	assert.NotContains(t, got, "---\n\n---", "blank documents are dropped")
}

// TestNodesInTheInputShapeTheZoneDefaults: Node objects in the input play the
// cluster's nodes, as the webhook's cache does: over nodes without a zone label
// the check MUST NOT inject (nor require) a zone spread, and warns instead;
// with none in the input the guide's multi-zone cluster is assumed.
func TestNodesInTheInputShapeTheZoneDefaults(t *testing.T) {
	node := func(name, labels string) string {
		return "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n  labels: {" + labels + "}\n"
	}
	rulesOf := func(r *report.Report) (applied, violated []string) {
		require.Len(t, r.Objects, 1)
		for _, v := range r.Objects[0].Violations {
			violated = append(violated, v.RuleID)
		}
		return r.Objects[0].DefaultsApplied, violated
	}

	applied, violated := rulesOf(offline.Check([]offline.Source{{Name: "api.yaml", Data: []byte(apiMinimal)}}, offline.Options{}))
	assert.Contains(t, applied, "set-api-zone-spread", "no nodes: several zones assumed")
	assert.NotContains(t, violated, "cluster-zones")

	metal := apiMinimal + node("metal-1", "kubernetes.io/hostname: metal-1") + node("metal-2", "kubernetes.io/hostname: metal-2")
	r := offline.Check([]offline.Source{{Name: "api.yaml", Data: []byte(metal)}}, offline.Options{})
	applied, violated = rulesOf(r)
	assert.NotContains(t, applied, "set-api-zone-spread", "nodes without zone labels get no zone spread")
	assert.Contains(t, violated, "cluster-zones")
	assert.NotContains(t, violated, "api-zone-spread", "and none is required")
	assert.True(t, r.Objects[0].Allowed)

	zoned := apiMinimal + node("a", "topology.kubernetes.io/zone: a") + node("b", "topology.kubernetes.io/zone: b")
	applied, violated = rulesOf(offline.Check([]offline.Source{{Name: "api.yaml", Data: []byte(zoned)}}, offline.Options{}))
	assert.Contains(t, applied, "set-api-zone-spread")
	assert.NotContains(t, violated, "cluster-zones")
}

// TestRoutingObjectsAreJudgedAgainstTheInput: a Service or Ingress of the input
// is judged against the input's workloads, in its own namespace, as the
// webhook judges it against the cluster's; the workloads' own checks still see
// no cluster (no pdb-missing for an input that holds no budget).
func TestRoutingObjectsAreJudgedAgainstTheInput(t *testing.T) {
	sticky := "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: %s}\n" +
		"spec: {sessionAffinity: ClientIP, selector: {app: laminar-api}, ports: [{port: 8000}]}\n"
	api := strings.Replace(apiMinimal, "  name: laminar-api\n", "  name: laminar-api\n  namespace: laminar\n", 1)
	ingress := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: api, namespace: laminar}\n" +
		"spec: {ingressClassName: alb, defaultBackend: {service: {name: api, port: {number: 8000}}}}\n"
	r := offline.Check([]offline.Source{{Name: "lb.yaml", Data: []byte(
		fmt.Sprintf(sticky, "laminar") + "---\n" + ingress + "---\n" + api + "---\n" + fmt.Sprintf(sticky, "elsewhere"))}}, offline.Options{})
	require.Empty(t, r.Errors)
	require.Len(t, r.Objects, 3, "the Service in another namespace selects no workload of the input")

	svc := r.Objects[0]
	assert.Equal(t, "Service", svc.Kind)
	assert.Equal(t, "api", svc.Role)
	assert.False(t, svc.Allowed, "a workload later in the input counts, as a cluster holding both")
	require.Len(t, svc.Violations, 1)
	assert.Equal(t, "api-service-session-affinity", svc.Violations[0].RuleID)
	assert.Equal(t, 4, svc.Violations[0].Line)

	ing := r.Objects[1]
	assert.Equal(t, "Ingress", ing.Kind)
	assert.Equal(t, []string{"set-api-alb-healthcheck"}, ing.DefaultsApplied)
	assert.True(t, ing.Allowed)

	// The workload is judged against the input as the cluster it stands for:
	// the ClientIP Service over its pods, and no budget over them.
	var ids []string
	for _, v := range r.Objects[2].Violations {
		ids = append(ids, v.RuleID)
	}
	assert.Contains(t, ids, "api-service-session-affinity")
	assert.Contains(t, ids, "pdb-missing")

	asWritten := offline.Check([]offline.Source{{Name: "lb.yaml", Data: []byte(ingress + "---\n" + api +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: laminar}\nspec: {selector: {app: laminar-api}}\n")}},
		offline.Options{AsWritten: true})
	require.Len(t, asWritten.Objects, 3)
	assert.Empty(t, asWritten.Objects[0].DefaultsApplied)
}

// ruleIDs lists, per object "Kind/name", the rule IDs of its violations.
func ruleIDs(r *report.Report) map[string][]string {
	out := map[string][]string{}
	for _, o := range r.Objects {
		ids := []string{}
		for _, v := range o.Violations {
			ids = append(ids, v.RuleID+":"+v.Outcome)
		}
		out[o.Kind+"/"+o.Name] = ids
	}
	return out
}

// The input's budgets and autoscalers MUST be judged against the input's
// workloads, and the workloads against them, as the webhook judges them
// against its cache; a budget over no Laminar pods is not reported, and two
// objects of one name never break the check: the later one stands.
func TestInputBudgetsAndAutoscalersAreTheCluster(t *testing.T) {
	const budget = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: laminar-api}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: other}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
`
	const autoscaler = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: laminar-api}
  minReplicas: 1
  maxReplicas: 5
`
	check := func(docs ...string) *report.Report {
		return offline.Check([]offline.Source{{Name: "in.yaml", Data: []byte(strings.Join(docs, "---\n"))}}, offline.Options{Policy: policy.Default()})
	}
	got := ruleIDs(check(apiMinimal, budget, autoscaler))
	assert.Contains(t, got["PodDisruptionBudget/api"], "pdb-allows-drain:deny", "3 of 3 blocks every drain")
	assert.Contains(t, got["HorizontalPodAutoscaler/api"], "hpa-min-replicas:deny")
	assert.Contains(t, got["HorizontalPodAutoscaler/api"], "pdb-allows-drain:deny", "the budget blocks drains at the floor too")
	assert.Contains(t, got["Deployment/laminar-api"], "pdb-allows-drain:deny", "the workload is judged against the input's budget")
	assert.NotContains(t, got["Deployment/laminar-api"], "pdb-missing:warn")
	_, reported := got["PodDisruptionBudget/other"]
	assert.False(t, reported, "a budget over no Laminar pods is not Laminar's")

	got = ruleIDs(check(apiMinimal))
	assert.Contains(t, got["Deployment/laminar-api"], "pdb-missing:warn", "no budget in the input: none in the cluster it stands for")

	// The same Deployment twice, the second at 2 replicas: the budget is judged
	// against the one a second apply leaves, and nothing fails.
	r := check(apiMinimal, strings.Replace(apiMinimal, "replicas: 3", "replicas: 2", 1), budget)
	assert.Empty(t, r.Errors)
	for _, o := range r.Objects {
		if o.Kind == "PodDisruptionBudget" {
			require.NotEmpty(t, o.Violations)
			assert.Contains(t, o.Violations[0].Message, "(2 replicas)")
		}
	}
}
