package e2e

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// driftFiles are every example and the suite's workloads that are admitted:
// what a GitOps tool would apply again and again. examples/api-bad.yaml is
// denied, so there is nothing to drift.
var driftFiles = []string{
	"examples/api-good.yaml", "examples/controller.yaml", "examples/pdbs.yaml",
	"testdata/api-two-replicas.yaml", "testdata/api-name-labels.yaml", "testdata/api-both-labels.yaml",
	"testdata/controller-no-checkpoint.yaml", "testdata/controller-shapes.yaml", "testdata/pdb-api.yaml",
}

// No drift (issue 15, point 9): a second apply of the same manifest finds
// nothing to change. Client-side apply sends nothing when its three-way patch
// is empty, so kubectl's "unchanged" is the marker; it says "configured" as
// soon as a default sits in a list the user owns whole (args, as leader
// election once did). Server-side apply twice, under one field manager, must
// meet no conflict and leave the live objects as they were.
func TestNoDrift(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name   string
		args   []string
		second string // what kubectl says of each object the second time
	}{
		{"client-side", nil, "unchanged"},
		{"server-side", []string{"--server-side", "--field-manager=gitops"}, "serverside-applied"},
	} {
		for _, file := range driftFiles {
			t.Run(mode.name+"/"+file, func(t *testing.T) {
				t.Parallel()
				path := testdata(strings.TrimPrefix(file, "testdata/"))
				if dir, name, _ := strings.Cut(file, "/"); dir == "examples" {
					path = example(name)
				}
				ns := newNamespace(t, nil)
				args := append([]string{"apply", "-n", ns, "-f", path}, mode.args...)
				mustKubectl(t, args...)
				first := live(t, path, ns)

				out, stderr, err := kubectl(t, append(args, "-v=9")...)
				require.NoError(t, err, "second apply: %s", stderr)
				assert.NotContains(t, stderr, "conflict")
				lines := strings.Split(strings.TrimSpace(out), "\n")
				assert.Len(t, lines, len(first), "one line per object")
				resent := 0
				for _, l := range lines {
					if mode.name == "client-side" && strings.HasSuffix(l, " configured") && upstreamResend(file, l) != "" {
						resent++
						continue
					}
					assert.True(t, strings.HasSuffix(l, " "+mode.second), "second apply of %s: %q", file, l)
				}
				// What kubectl sends the second time is only the upstream resend,
				// never a field a default fills.
				if mode.name != "client-side" {
					resent = 0 // server-side apply sends the whole configuration each time
				}
				for _, body := range patchBodies(t, stderr, mode.name == "client-side") {
					var patch map[string]map[string]any
					require.NoError(t, json.Unmarshal([]byte(body), &patch), body)
					assert.Len(t, patch, 1, "a patch of spec only: %s", body)
					for k := range patch["spec"] {
						assert.Contains(t, []string{"volumeClaimTemplates", "selector"}, k, "second apply of %s resends %s: %s", file, k, body)
					}
					resent--
				}
				assert.Zero(t, resent, "one resend per object kubectl called configured")
				second := live(t, path, ns)
				for i := range first {
					assert.Equal(t, first[i].GetResourceVersion(), second[i].GetResourceVersion(), "%s: the second apply must not write", first[i].GetName())
					assert.True(t, equality.Semantic.DeepEqual(first[i], second[i]), "%s: the live object changed", first[i].GetName())
				}

				diffOut, diffErr, err := kubectl(t, append([]string{"diff", "-n", ns, "-f", path}, mode.args...)...)
				assert.NoError(t, err, "kubectl diff must find no difference:\n%s%s", diffOut, diffErr)
				assert.Empty(t, strings.TrimSpace(diffOut))
			})
		}
	}
}

// upstreamResend names why client-side apply says "configured" of an object
// the webhook never drifts, or "". Both are kubectl's and the API server's,
// observed with this suite's binaries, and do not depend on the webhook: a
// StatefulSet's volumeClaimTemplates (an atomic list the API server fills
// defaults into) and a PodDisruptionBudget's selector (patch strategy
// replace) are sent again on every apply; the API server then stores nothing
// new, as the resourceVersion check below shows. The example controller writes
// its claim template as the API server stores it, so it alone must say
// "unchanged"; a budget's selector is resent however it is written.
func upstreamResend(file, line string) string {
	switch {
	case strings.HasPrefix(line, "statefulset.apps/") && !strings.HasPrefix(file, "examples/"):
		return "volumeClaimTemplates"
	case strings.HasPrefix(line, "poddisruptionbudget.policy/"):
		return "selector"
	}
	return ""
}

var requestBody = regexp.MustCompile(`helper\.go:\d+\] "Request Body" body=("(?:[^"\\]|\\.)*")`)

// patchBodies are the non-empty request bodies kubectl -v=9 logs for its
// PATCH calls.
func patchBodies(t *testing.T, stderr string, clientSide bool) []string {
	t.Helper()
	if !clientSide {
		return nil
	}
	var out []string
	for _, m := range requestBody.FindAllStringSubmatch(stderr, -1) {
		body, err := strconv.Unquote(m[1])
		require.NoError(t, err, m[1])
		if body != "" {
			out = append(out, body)
		}
	}
	return out
}

// live reads the objects of a manifest as stored in ns, in the file's order.
func live(t *testing.T, path, ns string) []client.Object {
	t.Helper()
	var out []client.Object
	for _, o := range readObjects(t, path) {
		o.SetNamespace(ns)
		got := o.DeepCopyObject().(client.Object)
		require.NoError(t, env.Client.Get(testContext(t), client.ObjectKeyFromObject(o), got))
		out = append(out, got)
	}
	return out
}

// No surprise rollouts (issue 15, point 9): the first change of a workload
// stored without the defaults, a label, leaves its pod template as it was;
// the defaults wait for the template's next change, or for the opt-in
// annotation. A scale-down is still denied on the way.
func TestUpdateLeavesThePodTemplate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	// Stored while mutation was off and enforcement only warned: none of the defaults.
	ns := newNamespace(t, map[string]string{"ha.laminar.io/enforce": "warn", "ha.laminar.io/mutate": "off"})
	waitForMode(t, ns, true)
	mustKubectl(t, "apply", "-n", ns, "-f", example("api-good.yaml"))
	mustKubectl(t, "label", "namespace", ns, "ha.laminar.io/enforce-", "ha.laminar.io/mutate-")
	waitForMode(t, ns, false)
	key := client.ObjectKey{Namespace: ns, Name: "laminar-api"}
	before := &appsv1.Deployment{}
	require.NoError(t, env.Client.Get(ctx, key, before))
	require.Nil(t, container(t, &before.Spec.Template.Spec, "api").ReadinessProbe, "stored without the defaults")

	_, stderr, err := kubectl(t, "label", "deployment", "-n", ns, "laminar-api", "team=payments")
	require.NoError(t, err, "a label is not denied for the defaults it lacks: %s", stderr)
	assert.Contains(t, stderr, "Warning: pod template unchanged: 8 HA defaults wait for its next change; now: annotate ha.laminar.io/apply-defaults=true")
	assert.Contains(t, stderr, "Warning: pending default: spec.template.spec.containers[0].readinessProbe: [api-readiness-probe]")
	after := &appsv1.Deployment{}
	require.NoError(t, env.Client.Get(ctx, key, after))
	assert.Equal(t, "payments", after.Labels["team"])
	assert.True(t, equality.Semantic.DeepEqual(before.Spec.Template, after.Spec.Template), "the label rolled no pod")
	assert.Equal(t, int32(0), after.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal, "the strategy, outside the template, still applies")

	_, stderr, err = kubectl(t, "patch", "deployment", "-n", ns, "laminar-api", "-p", `{"spec":{"replicas":1}}`)
	require.Error(t, err, "a scale-down by edit is still denied")
	assert.Contains(t, stderr, "spec.replicas: Invalid value: 1: [replicas-min]")

	mustKubectl(t, "annotate", "deployment", "-n", ns, "laminar-api", "ha.laminar.io/apply-defaults=true")
	require.NoError(t, env.Client.Get(ctx, key, after))
	assertAPIDefaults(t, after, apiPodLabels)
}
