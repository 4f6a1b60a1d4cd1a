package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/offline"
	"github.com/laminar/ha-webhook/pkg/report"
	"github.com/laminar/ha-webhook/pkg/validate"
)

// shippedFixtures are the manifests the project ships, judged under the guide's
// default policy (the one the dev environment's webhook runs with).
var shippedFixtures = []string{"examples", "test/testdata/admission", "test/testdata/mutate", "test/testdata/cli"}

// ruleInMessage finds the webhook's [rule-id] tags; every rule ID has a hyphen,
// which tells them from list indexes such as containers[0].
var ruleInMessage = regexp.MustCompile(`\[([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\]`)

// TestClusterAgreesWithCheck sends every Deployment and StatefulSet of the
// shipped fixtures through the real API server (kubectl apply --dry-run=server,
// in a namespace of its own) and through `check`, and the two MUST agree on what
// is Laminar (the webhook is called for exactly the objects check judges) and
// on the verdict (denied or not, by the same rules). This is the test that would
// have caught the cluster selecting by the object's own labels while check read
// the pod template.
func TestClusterAgreesWithCheck(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	compared, judged := 0, 0
	for _, dir := range shippedFixtures {
		for _, src := range offline.Read([]string{filepath.Join(env.RepoRoot, dir)}, nil, "") {
			require.NoError(t, src.Err, src.Name)
			if strings.HasSuffix(src.Name, ".policy.yaml") || hasPolicy(src.Name) {
				continue // judged under another policy than the cluster's
			}
			for _, doc := range manifest.Split(src.Data) {
				content, err := doc.Objects()
				if err != nil {
					continue
				}
				for _, o := range content.Objects {
					if o.Typed == nil || o.Err != nil {
						continue // not a Deployment or StatefulSet of apps/v1
					}
					name := fmt.Sprintf("agree-%03d", compared)
					js, ok := inNamespace(t, o.JSON, ns, name)
					if !ok {
						continue // being deleted: an API server cannot create it
					}
					where := fmt.Sprintf("%s document %d item %d", src.Name, doc.Index, o.Item)
					switch agree(t, where, ns, name, js) {
					case laminar:
						judged++
						compared++
					case other:
						compared++
					}
				}
			}
		}
	}
	t.Logf("figures: %d workloads compared, %d of them Laminar's", compared, judged)
	assert.Greater(t, compared, 20, "the fixtures hold workloads")
	assert.Greater(t, judged, 10, "and Laminar ones among them")
	assert.Less(t, judged, compared, "and others")
}

type agreement int

const (
	laminar agreement = iota // compared, and judged
	other                    // compared, not Laminar's
	refused                  // the API server's own validation refused it: nothing to compare
)

// agree compares one object.
func agree(t *testing.T, where, ns, name string, js []byte) agreement {
	t.Helper()
	rep := offline.Check([]offline.Source{{Name: name + ".json", Data: js}}, offline.Options{})
	require.Empty(t, rep.Errors, "%s: check reads it", where)
	require.LessOrEqual(t, len(rep.Objects), 1, where)
	var cli *report.Object
	if len(rep.Objects) == 1 {
		cli = &rep.Objects[0]
	}

	_, stderr, err := kubectlStdin(t, string(js), "apply", "--dry-run=server", "-o", "json", "-f", "-")
	clusterDenied := err != nil
	// kubectl prints the webhook's 422 as "... is invalid:" with one cause per
	// line, each tagged with its rule; the API server's own refusals carry no tag.
	if clusterDenied && !ruleInMessage.MatchString(stderr) {
		t.Logf("%s: refused by the API server itself, not compared: %s", where, stderr)
		return refused
	}
	called := calledMutating(t, ns, name)
	assert.Equal(t, cli != nil, called, "%s: check judges it ⇔ the API server calls the webhook", where)
	if cli == nil {
		assert.False(t, clusterDenied, "%s: not Laminar's, yet denied", where)
		return other
	}
	var denied []string
	for _, v := range cli.Violations {
		if v.Outcome == string(validate.OutcomeDeny) && !slices.Contains(denied, v.RuleID) {
			denied = append(denied, v.RuleID)
		}
	}
	assert.Equal(t, len(denied) > 0, clusterDenied, "%s: denied by check ⇔ denied by the cluster: %s", where, stderr)
	if clusterDenied {
		var fromCluster []string
		for _, line := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(line, "Warning: ") {
				continue // warned, not denied
			}
			for _, m := range ruleInMessage.FindAllStringSubmatch(line, -1) {
				if !slices.Contains(fromCluster, m[1]) {
					fromCluster = append(fromCluster, m[1])
				}
			}
		}
		slices.Sort(denied)
		slices.Sort(fromCluster)
		assert.Equal(t, denied, fromCluster, "%s: the same rules deny", where)
	}
	return laminar
}

// inNamespace renames the object into ns; ok is false for an object being deleted.
func inNamespace(t *testing.T, raw []byte, ns, name string) ([]byte, bool) {
	t.Helper()
	var obj map[string]any
	require.NoError(t, json.Unmarshal(raw, &obj))
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	if _, deleting := meta["deletionTimestamp"]; deleting {
		return nil, false
	}
	meta["namespace"], meta["name"] = ns, name
	out, err := json.Marshal(obj)
	require.NoError(t, err)
	return out, true
}

// hasPolicy follows the fixtures' convention: x.yaml is judged under
// x.policy.yaml when that file exists.
func hasPolicy(file string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(file, ".yaml"), ".golden")
	for _, src := range offline.Read([]string{base + ".policy.yaml"}, nil, "") {
		return src.Err == nil
	}
	return false
}
