package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
	"github.com/laminar/ha-webhook/pkg/rules"
)

func TestKyvernoFlags(t *testing.T) {
	c, err := parseFlags([]string{"-handler=false", "-e2e", "-kyverno-binary", "/x/kyverno"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "/x/kyverno", c.KyvernoBinary)
	assert.Equal(t, DefaultKyvernoPolicy, c.KyvernoPolicy)

	c, err = parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Empty(t, c.KyvernoBinary, "without the flag the e2e phase runs as before")

	for _, args := range [][]string{
		{"-kyverno-binary", "/x/kyverno"}, // no -e2e
		{"-e2e", "-kyverno-binary", "/x/kyverno", "-e2e-vap=false"},
		{"-e2e", "-kyverno-binary", "/x/kyverno", "-kyverno-policy", " "},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.Error(t, err, "%v", args)
	}
}

func TestCheckKyvernoBinary(t *testing.T) {
	dir := t.TempDir()
	assert.ErrorContains(t, checkKyvernoBinary(filepath.Join(dir, "missing")), "make kyverno")
	assert.ErrorContains(t, checkKyvernoBinary(dir), "not an executable")
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("x"), 0o600))
	assert.ErrorContains(t, checkKyvernoBinary(plain), "not an executable")
	exe := filepath.Join(dir, "exe")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o700))
	assert.NoError(t, checkKyvernoBinary(exe))
}

// TestKyvernoPolicy: the ClusterPolicy parses, holds the defaults and checks
// docs/performance.md says it does, and every deny message names real rule IDs
// of ours in brackets (what the verdict check prints side by side).
func TestKyvernoPolicy(t *testing.T) {
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	u, err := ReadKyvernoPolicy(filepath.Join(root, DefaultKyvernoPolicy))
	require.NoError(t, err)
	names, err := KyvernoRuleNames(u)
	require.NoError(t, err)
	for _, want := range []string{
		"set-api-strategy-surge", "set-api-strategy-unavailable", "set-api-anti-affinity", "set-api-zone-spread",
		"set-api-probes-and-requests", "set-api-grace-period", "set-api-prestop",
		"set-controller-anti-affinity", "set-controller-zone-spread", "set-controller-leader-election",
		"replicas-min", "api-strategy-rolling", "api-probes", "api-anti-affinity", "api-zone-spread",
		"controller-kind-statefulset", "controller-anti-affinity", "controller-leader-election",
		"controller-rocksdb-volume", "controller-storage", "controller-checkpoint-url",
	} {
		assert.Contains(t, names, want)
	}
	failurePolicy, _, _ := unstructured.NestedString(u.Object, "spec", "failurePolicy")
	assert.Equal(t, "Fail", failurePolicy, "like ours, a Kyverno that cannot answer must not admit")
	background, found, _ := unstructured.NestedBool(u.Object, "spec", "background")
	assert.True(t, found && !background, "no background scans: admission only, as measured")

	rs, _, err := unstructured.NestedSlice(u.Object, "spec", "rules")
	require.NoError(t, err)
	var mutates, validates int
	for _, r := range rs {
		m := r.(map[string]any)
		name := m["name"].(string)
		if _, ok := m["mutate"]; ok {
			mutates++
			assert.True(t, strings.HasPrefix(name, "set-"), name)
			continue
		}
		v, ok := m["validate"].(map[string]any)
		require.True(t, ok, "%s: neither mutate nor validate", name)
		validates++
		assert.Equal(t, "Enforce", v["failureAction"], name)
		msg, _ := v["message"].(string)
		require.True(t, strings.HasPrefix(msg, "["), "%s: message %q starts with a rule ID in brackets", name, msg)
		ids := ruleIDs(errors.New(msg))
		require.NotEmpty(t, ids, name)
		for _, id := range ids {
			_, ok := rules.ByID(id)
			assert.True(t, ok, "%s: [%s] is none of our rule IDs", name, id)
		}
	}
	assert.Equal(t, 10, mutates)
	assert.Equal(t, 11, validates)
}

func TestReadKyvernoPolicyRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not yaml":   "spec: [",
		"wrong kind": "apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: x}\nspec: {rules: [{name: a}]}\n",
		"no name":    "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec: {rules: [{name: a}]}\n",
		"no rules":   "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {rules: []}\n",
		"rules map":  "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {rules: {a: b}}\n",
		"rule name":  "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {rules: [{mutate: {}}]}\n",
		"rule item":  "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {rules: [3]}\n",
		"empty":      "",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		_, err := ReadKyvernoPolicy(p)
		assert.Error(t, err, name)
	}
	_, err := ReadKyvernoPolicy(filepath.Join(dir, "absent.yaml"))
	assert.Error(t, err)
}

func TestKyvernoArgs(t *testing.T) {
	args := strings.Join(kyvernoArgs("/k/config", 9443, 9444), " ")
	for _, want := range []string{"--kubeconfig=/k/config", "--serverIP=127.0.0.1:9443", "--webhookServerPort=9443", "--metricsPort=9444", "--admissionReports=false", "--caSecretName=", "--tlsSecretName="} {
		assert.Contains(t, args, want)
	}
	env := strings.Join(kyvernoEnv, " ")
	for _, want := range []string{"KYVERNO_NAMESPACE=", "KYVERNO_SERVICEACCOUNT_NAME=", "KYVERNO_DEPLOYMENT=", "KYVERNO_POD_NAME=", "INIT_CONFIG=kyverno", "METRICS_CONFIG="} {
		assert.Contains(t, env, want)
	}
}

func denied(ids ...string) Outcome {
	msg := "admission webhook \"x\" denied the request:"
	for _, id := range ids {
		msg += " [" + id + "] no"
	}
	err := errors.New(msg)
	return Outcome{IDs: ruleIDs(err), Err: err}
}

func admitted() Outcome { return Outcome{Allowed: true, Object: &appsv1.Deployment{}} }

func TestCompareVerdicts(t *testing.T) {
	ok := admitted()
	good := []VerdictRow{
		{Name: "a", Ours: admitted(), Kyverno: admitted(), Revalidated: &ok, SameSpec: true},
		{Name: "b", Ours: denied("replicas-min"), Kyverno: denied("replicas-min", "api-strategy-rolling")},
	}
	require.NoError(t, CompareVerdicts(good), "denied by both, whatever the reasons, is the same verdict")

	no := denied("api-zone-spread")
	for name, rows := range map[string][]VerdictRow{
		"ours denies, kyverno admits": {{Name: "x", Ours: denied("replicas-min"), Kyverno: admitted(), Revalidated: &ok}},
		"ours admits, kyverno denies": {{Name: "x", Ours: admitted(), Kyverno: denied("replicas-min")}},
		"kyverno's object fails ours": {{Name: "x", Ours: admitted(), Kyverno: admitted(), Revalidated: &no}},
		"kyverno's object unchecked":  {{Name: "x", Ours: admitted(), Kyverno: admitted()}},
	} {
		err := CompareVerdicts(append(append([]VerdictRow(nil), good...), rows...))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "x:", name)
		assert.Contains(t, err.Error(), "1 of 3", name)
		assert.Contains(t, err.Error(), "not timing it", name)
	}
	assert.Error(t, CompareVerdicts(nil), "nothing compared is no agreement")

	var out bytes.Buffer
	rows := append(append([]VerdictRow(nil), good...), VerdictRow{Name: "x", Ours: admitted(), Kyverno: admitted(), Revalidated: &no, Differs: []string{"spec.replicas"}})
	require.NoError(t, PrintVerdicts(&out, rows))
	text := out.String()
	assert.Contains(t, text, "on 3 objects")
	assert.Contains(t, text, "2 agree")
	assert.Contains(t, text, "denies [api-strategy-rolling replicas-min]")
	assert.Contains(t, text, "NO denies [api-zone-spread]")
	assert.Contains(t, text, "no: spec.replicas")
	assert.Equal(t, 1, strings.Count(text, "<-- differs"), text)
}

func TestRuleIDs(t *testing.T) {
	err := errors.New(`admission webhook "validate.kyverno.svc-fail" denied the request: laminar-ha: replicas-min: [replicas-min] spec.replicas is 1; api-strategy-rolling: [api-strategy-rolling] no; [replicas-min] again`)
	assert.Equal(t, []string{"api-strategy-rolling", "replicas-min"}, ruleIDs(err))
	assert.Nil(t, ruleIDs(nil))
	assert.Empty(t, ruleIDs(errors.New("no brackets [Not An ID]")))
	assert.True(t, isDenial(err))
	assert.False(t, isDenial(errors.New(`Internal error occurred: failed calling webhook "x": connection refused`)))
}

func TestSpecDiffAndAsSubmitted(t *testing.T) {
	a := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), MinReadySeconds: 1}}
	b := a.DeepCopy()
	assert.Empty(t, specDiff(a, b, 3))
	b.Spec.Replicas = ptr.To[int32](2)
	b.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](60)
	assert.Equal(t, []string{"spec.replicas", "spec.template.spec.terminationGracePeriodSeconds"}, specDiff(a, b, 3))
	assert.Equal(t, []string{"spec.replicas", "… 1 more"}, specDiff(a, b, 1))

	stored := a.DeepCopy()
	stored.UID, stored.ResourceVersion, stored.Generation = "u", "7", 1
	stored.CreationTimestamp = metav1.Now()
	stored.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "m"}}
	stored.Status.Replicas = 3
	again := asSubmitted(stored).(*appsv1.Deployment)
	assert.Empty(t, again.UID)
	assert.Empty(t, again.ResourceVersion)
	assert.Zero(t, again.Generation)
	assert.True(t, again.CreationTimestamp.IsZero())
	assert.Nil(t, again.ManagedFields)
	assert.Zero(t, again.Status.Replicas)
	assert.Equal(t, a.Spec, again.Spec)
	assert.Equal(t, "7", stored.ResourceVersion, "the original is left alone")
}

// TestVerdictObjects: the check covers the e2e phase's objects (the minimal
// ones and their golden outputs), the denied fixtures and the unrelated one.
func TestVerdictObjects(t *testing.T) {
	root, err := devenv.FindRepoRoot()
	require.NoError(t, err)
	objs, err := VerdictObjects(root)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, o := range objs {
		names[o.Name] = true
	}
	for _, want := range []string{
		"test/testdata/mutate/api-minimal.yaml (Deployment)",
		"test/testdata/mutate/api-minimal.golden.yaml (Deployment)",
		"test/testdata/mutate/controller-minimal.yaml (StatefulSet)",
		"test/testdata/mutate/controller-minimal.golden.yaml (StatefulSet)",
		"test/testdata/admission/api-bad.yaml (Deployment)",
		"test/testdata/admission/controller-bad.yaml (StatefulSet)",
		"test/testdata/mutate/not-laminar.yaml (Deployment)",
	} {
		assert.True(t, names[want], "%s in %v", want, names)
	}
	for n := range names {
		assert.NotContains(t, n, ".policy.yaml", "a policy file is no workload")
	}
}

func TestCPUMeter(t *testing.T) {
	clock := map[int]time.Duration{1: 0, 2: 0}
	m := newCPUMeter(map[string]int{procAPIServer: 1, procLaminar: 2, procKyverno: 0})
	m.read = func(pid int) (time.Duration, error) {
		t, ok := clock[pid]
		if !ok {
			return 0, errors.New("gone")
		}
		return t, nil
	}
	before := m.snapshot()
	assert.NotContains(t, before, procKyverno, "a process not running is not read")
	clock[1], clock[2] = 30*time.Millisecond, 20*time.Millisecond
	m.charge("laminar, minimal", before)
	before = m.snapshot()
	clock[1] += 10 * time.Millisecond
	m.charge("none, minimal", before)
	before = m.snapshot()
	clock[1] += 10 * time.Millisecond
	clock[2] += 10 * time.Millisecond
	m.charge("laminar, minimal", before)
	assert.Equal(t, 40*time.Millisecond, m.used["laminar, minimal"][procAPIServer])
	assert.Equal(t, 30*time.Millisecond, m.used["laminar, minimal"][procLaminar])
	assert.Equal(t, 10*time.Millisecond, m.used["none, minimal"][procAPIServer])
	assert.Zero(t, m.used["none, minimal"][procLaminar])

	mem := map[string]parentdeath.Memory{procLaminar: {Peak: 40 << 20, RSS: 30 << 20}}
	variants := []*e2eVariant{
		{name: "none, minimal", lat: []time.Duration{2 * time.Millisecond, 2 * time.Millisecond}},
		{name: "laminar, minimal", webhook: procLaminar, baseline: "none, minimal", lat: []time.Duration{5 * time.Millisecond, 3 * time.Millisecond}},
	}
	rows := peerRows(variants, m, mem)
	require.Len(t, rows, 2)
	assert.InDelta(t, 500, rows[0].CreatesPerSecond(), 0.01)
	assert.InDelta(t, 250, rows[1].CreatesPerSecond(), 0.01)
	assert.Nil(t, rows[0].Memory, "no webhook, no webhook memory")
	require.NotNil(t, rows[1].Memory)
	assert.Equal(t, 30*time.Millisecond, rows[1].WebhookCPU)
	var out bytes.Buffer
	require.NoError(t, PrintPeers(&out, rows, map[string]string{"laminar, minimal": "none, minimal"}))
	text := out.String()
	assert.Contains(t, text, "15000µs", "webhook CPU per create: 30ms over 2")
	assert.Contains(t, text, "40.0 MiB")
	assert.Contains(t, text, "+1.00ms", "p50 over the baseline's: 3ms against 2ms")

	m.reset()
	assert.Empty(t, m.used)
}

func TestInsideKyverno(t *testing.T) {
	before := "# HELP x\nkyverno_admission_review_duration_seconds_sum{a=\"1\"} 0.5\nkyverno_admission_review_duration_seconds_count{a=\"1\"} 10\nkyverno_admission_review_duration_seconds_sum{a=\"2\"} 0.5\nkyverno_admission_review_duration_seconds_count{a=\"2\"} 10\nother_sum 9\n"
	after := strings.ReplaceAll(strings.ReplaceAll(before, "} 0.5", "} 1.5"), "} 10", "} 60")
	s, n := sumCount(after, kyvernoReviewMetric)
	assert.InDelta(t, 3.0, s, 1e-9)
	assert.InDelta(t, 120.0, n, 1e-9)
	assert.Contains(t, insideKyverno(before, after), "20000µs over 100 reviews")
	assert.Contains(t, insideKyverno("", ""), "no kyverno_admission_review_duration_seconds")
}
