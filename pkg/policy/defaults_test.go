package policy

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const fullPolicyFile = "testdata/policy-full.yaml"

func TestDefaultIsTheGuide(t *testing.T) {
	p := Default()
	assert.Equal(t, APIVersion, p.APIVersion)
	assert.Equal(t, Kind, p.Kind)
	assert.True(t, p.KubernetesDefaultsAsUnset())

	t.Run("Minimum HA Configuration", func(t *testing.T) {
		assert.Equal(t, Replicas{Min: 2, Recommended: 3}, p.API.Replicas)
		assert.Equal(t, Replicas{Min: 2, Recommended: 2}, p.Controller.Replicas, "the guide runs the controller at 2")
		assert.Equal(t, "500m", p.API.Requests.CPU.String())
		assert.Equal(t, "512Mi", p.API.Requests.Memory.String())
	})
	t.Run("API Server HA › Multiple Replicas", func(t *testing.T) {
		assert.Equal(t, intstr.FromInt32(0), p.API.RollingUpdate.MaxUnavailable)
		assert.Equal(t, intstr.FromInt32(1), p.API.RollingUpdate.MaxSurge)
		assert.Equal(t, AntiAffinity{TopologyKey: "kubernetes.io/hostname", Weight: 100}, p.API.AntiAffinity)
	})
	t.Run("API Server HA › Multi-Zone Distribution", func(t *testing.T) {
		assert.Equal(t, ZoneSpread{TopologyKey: "topology.kubernetes.io/zone", MaxSkew: 1, WhenUnsatisfiable: "DoNotSchedule"}, p.API.ZoneSpread)
	})
	t.Run("Load Balancing › Ingress Health Checks", func(t *testing.T) {
		assert.Equal(t, int32(15), p.API.Ingress.ALB.IntervalSeconds)
		assert.Equal(t, "/health", p.API.Probes.Liveness.Path, "the ALB health check's path")
	})
	t.Run("Controller HA", func(t *testing.T) {
		assert.Equal(t, "kubernetes.io/hostname", p.Controller.AntiAffinity.TopologyKey)
		assert.Equal(t, 15*time.Second, p.Controller.LeaderElection.LeaseDuration.Duration)
		assert.Equal(t, 10*time.Second, p.Controller.LeaderElection.RenewDeadline.Duration)
		assert.Equal(t, 2*time.Second, p.Controller.LeaderElection.RetryPeriod.Duration)
	})
	// Not the guide's: its Helm values name no flags. These are the names the
	// project assumed before they became policy values, kept so nothing moves.
	t.Run("assumed flag and variable names", func(t *testing.T) {
		s := p.Controller.Settings
		assert.Equal(t, Setting{Flag: "leader-elect", Env: "LAMINAR_LEADER_ELECT"}, s.LeaderElect)
		assert.Equal(t, Setting{Flag: "leader-elect-lease-duration", Env: "LAMINAR_LEADER_ELECT_LEASE_DURATION"}, s.LeaseDuration)
		assert.Equal(t, Setting{Flag: "leader-elect-renew-deadline", Env: "LAMINAR_LEADER_ELECT_RENEW_DEADLINE"}, s.RenewDeadline)
		assert.Equal(t, Setting{Flag: "leader-elect-retry-period", Env: "LAMINAR_LEADER_ELECT_RETRY_PERIOD"}, s.RetryPeriod)
		assert.Equal(t, Setting{Flag: "checkpoint-url", Env: "LAMINAR_CHECKPOINT_URL"}, s.CheckpointURL)
		assert.Equal(t, Setting{Flag: "checkpoint-interval", Env: "LAMINAR_CHECKPOINT_INTERVAL"}, s.CheckpointInterval)
		assert.Equal(t, Setting{Flag: "artifacts-url", Env: "LAMINAR_ARTIFACTS_URL"}, s.ArtifactsURL)
	})
	t.Run("RocksDB Storage HA › Fast Storage", func(t *testing.T) {
		assert.Equal(t, []string{"gp3", "premium-rwo", "managed-csi-premium"}, p.Controller.Storage.FastStorageClasses)
		assert.Equal(t, "100Gi", p.Controller.Storage.MinSize.String())
		assert.Empty(t, p.Controller.Storage.VolumeName)
	})
	t.Run("RocksDB Storage HA › Backup to Object Storage", func(t *testing.T) {
		assert.Equal(t, 30*time.Second, p.Controller.Checkpoints.MaxInterval.Duration)
		assert.Equal(t, []string{"s3", "gs", "azblob"}, p.Controller.Checkpoints.Schemes)
		assert.NotContains(t, p.Controller.Checkpoints.Schemes, "file")
	})
	t.Run("Health Probes", func(t *testing.T) {
		assert.Equal(t, Probe{Path: "/health", Port: 8000, InitialDelaySeconds: 30, PeriodSeconds: 10, FailureThreshold: 3}, p.API.Probes.Liveness)
		assert.Equal(t, Probe{Path: "/ready", Port: 8000, InitialDelaySeconds: 5, PeriodSeconds: 5, FailureThreshold: 3}, p.API.Probes.Readiness)
		assert.Equal(t, Probe{Path: "/health", Port: 8000, InitialDelaySeconds: 10, PeriodSeconds: 10, FailureThreshold: 30}, p.API.Probes.Startup)
	})
	t.Run("Graceful Shutdown", func(t *testing.T) {
		assert.Equal(t, int64(60), p.API.TerminationGracePeriodSeconds)
		assert.Equal(t, PreStop{Mode: PreStopExec, Seconds: 10}, p.API.PreStop)
	})
	t.Run("main containers", func(t *testing.T) {
		assert.Equal(t, "api", p.API.ContainerName)
		assert.Equal(t, "controller", p.Controller.ContainerName)
	})
}

func TestDefaultIsValid(t *testing.T) {
	assert.Empty(t, Default().Validate())
}

func TestDefaultReturnsAFreshPolicy(t *testing.T) {
	a := Default()
	*a.TreatKubernetesDefaultsAsUnset = false
	a.Controller.Storage.FastStorageClasses[0] = "changed"
	a.Controller.Checkpoints.Schemes[0] = "changed"
	b := Default()
	assert.True(t, *b.TreatKubernetesDefaultsAsUnset)
	assert.Equal(t, "gp3", b.Controller.Storage.FastStorageClasses[0])
	assert.Equal(t, "s3", b.Controller.Checkpoints.Schemes[0])
}

func TestKubernetesDefaultsAsUnset(t *testing.T) {
	yes, no := true, false
	assert.True(t, (&Policy{}).KubernetesDefaultsAsUnset(), "unset means true")
	assert.True(t, (&Policy{TreatKubernetesDefaultsAsUnset: &yes}).KubernetesDefaultsAsUnset())
	assert.False(t, (&Policy{TreatKubernetesDefaultsAsUnset: &no}).KubernetesDefaultsAsUnset())
}

// The committed example spells out every field with its default value; the README
// links to it as the policy reference.
func TestPolicyFullIsTheDefault(t *testing.T) {
	data, err := os.ReadFile(fullPolicyFile)
	require.NoError(t, err)
	p, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, Default(), p)

	t.Run("every field is spelled out", func(t *testing.T) {
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(data, &doc))
		for _, path := range fieldPaths(reflect.TypeFor[Policy](), "") {
			if path == "controller.antiAffinity.weight" {
				continue // the controller's term is required: a weight is an error
			}
			assert.True(t, hasPath(doc, path), "%s sets no %s", fullPolicyFile, path)
		}
	})

	t.Run("every field has a comment above it", func(t *testing.T) {
		key := regexp.MustCompile(`^\s*([A-Za-z]+):`)
		sc := bufio.NewScanner(bytes.NewReader(data))
		prev, n := "", 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if m := key.FindStringSubmatch(line); m != nil {
				assert.True(t, strings.HasPrefix(strings.TrimSpace(prev), "#"), "line %d: %s has no comment above it", n, m[1])
			}
			prev = line
		}
	})
}

// leafTypes are struct types a policy file writes as one scalar.
var leafTypes = map[reflect.Type]bool{
	reflect.TypeFor[intstr.IntOrString](): true,
	reflect.TypeFor[resource.Quantity]():  true,
	reflect.TypeFor[metav1.Duration]():    true,
}

// fieldPaths lists the dotted JSON path of every leaf field of a policy type.
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		ft := f.Type
		if ft.Kind() == reflect.Struct && !leafTypes[ft] {
			out = append(out, fieldPaths(ft, path)...)
			continue
		}
		out = append(out, path)
	}
	return out
}

func hasPath(doc map[string]any, path string) bool {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return true
}
