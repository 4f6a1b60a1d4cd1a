package policy

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
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
	"k8s.io/apimachinery/pkg/util/validation/field"
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
		assert.Equal(t, Replicas{Min: 2, Recommended: 3}, p.Controller.Replicas)
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
	t.Run("Controller HA", func(t *testing.T) {
		assert.Equal(t, "kubernetes.io/hostname", p.Controller.AntiAffinity.TopologyKey)
		assert.Equal(t, 15*time.Second, p.Controller.LeaderElection.LeaseDuration.Duration)
		assert.Equal(t, 10*time.Second, p.Controller.LeaderElection.RenewDeadline.Duration)
		assert.Equal(t, 2*time.Second, p.Controller.LeaderElection.RetryPeriod.Duration)
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

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "  \n\t\n", "# only a comment\n", "{}", "---\n"} {
		p, err := Parse([]byte(in))
		require.NoError(t, err, "%q", in)
		assert.Equal(t, Default(), p, "%q", in)
	}
}

// A partial file overrides only what it names; everything else keeps the guide's value.
func TestParsePartial(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(*Policy)
	}{
		{name: "one nested number", yaml: "api:\n  replicas:\n    min: 3\n",
			want: func(p *Policy) { p.API.Replicas.Min = 3 }},
		{name: "no apiVersion or kind needed", yaml: "controller:\n  replicas:\n    recommended: 5\n",
			want: func(p *Policy) { p.Controller.Replicas.Recommended = 5 }},
		{name: "one duration", yaml: "controller:\n  leaderElection:\n    leaseDuration: 30s\n",
			want: func(p *Policy) {
				p.Controller.LeaderElection.LeaseDuration = metav1.Duration{Duration: 30 * time.Second}
			}},
		{name: "a list is replaced, not merged", yaml: "controller:\n  storage:\n    fastStorageClasses: [fast-ssd]\n",
			want: func(p *Policy) { p.Controller.Storage.FastStorageClasses = []string{"fast-ssd"} }},
		{name: "quantities", yaml: "api:\n  requests:\n    memory: 1Gi\ncontroller:\n  storage:\n    minSize: 200Gi\n",
			want: func(p *Policy) {
				p.API.Requests.Memory = resource.MustParse("1Gi")
				p.Controller.Storage.MinSize = resource.MustParse("200Gi")
			}},
		{name: "percentages", yaml: "api:\n  rollingUpdate:\n    maxSurge: 50%\n",
			want: func(p *Policy) { p.API.RollingUpdate.MaxSurge = intstr.FromString("50%") }},
		{name: "maxSurge above 100% is allowed", yaml: "api:\n  rollingUpdate:\n    maxSurge: 200%\n",
			want: func(p *Policy) { p.API.RollingUpdate.MaxSurge = intstr.FromString("200%") }},
		{name: "one probe field", yaml: "api:\n  probes:\n    readiness:\n      path: /readyz\n",
			want: func(p *Policy) { p.API.Probes.Readiness.Path = "/readyz" }},
		{name: "kubernetes defaults as choices", yaml: "treatKubernetesDefaultsAsUnset: false\n",
			want: func(p *Policy) { no := false; p.TreatKubernetesDefaultsAsUnset = &no }},
		{name: "native sleep", yaml: "api:\n  preStop:\n    mode: sleep\n",
			want: func(p *Policy) { p.API.PreStop.Mode = PreStopSleep }},
		{name: "volume and container names", yaml: "api:\n  containerName: server\ncontroller:\n  containerName: engine\n  storage:\n    volumeName: rocksdb\n",
			want: func(p *Policy) {
				p.API.ContainerName = "server"
				p.Controller.ContainerName = "engine"
				p.Controller.Storage.VolumeName = "rocksdb"
			}},
		{name: "grace period and preStop together", yaml: "api:\n  terminationGracePeriodSeconds: 20\n  preStop:\n    seconds: 15\n",
			want: func(p *Policy) { p.API.TerminationGracePeriodSeconds = 20; p.API.PreStop.Seconds = 15 }},
		{name: "JSON is YAML", yaml: `{"api": {"replicas": {"min": 3}}}`,
			want: func(p *Policy) { p.API.Replicas.Min = 3 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.yaml))
			require.NoError(t, err)
			want := Default()
			tc.want(want)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseUnknownField(t *testing.T) {
	for in, field := range map[string]string{
		"replica: 3\n":                                           "replica",
		"treatKubernetesDefaultAsUnset: false\n":                 "treatKubernetesDefaultAsUnset",
		"api:\n  replicas:\n    minimum: 3\n":                    "minimum",
		"controller:\n  storage:\n    storageClass: gp3\n":       "storageClass",
		"controller:\n  leaderElection:\n    enabled: true\n":    "enabled",
		"api:\n  probes:\n    liveness:\n      timeout: 1\n":     "timeout",
		"api:\n  preStop:\n    seconds: 5\n    sleep: true\n":    "sleep",
		"controller:\n  checkpoints:\n    url: s3://b/c\n":       "url",
		"apiVersion: ha.laminar.io/v1alpha1\nkind: Policy\nx: 1": "x",
	} {
		_, err := Parse([]byte(in))
		if assert.Error(t, err, "%q", in) {
			assert.Contains(t, err.Error(), `unknown field "`+field+`"`)
		}
	}
}

func TestParseBadTypes(t *testing.T) {
	for in, path := range map[string]string{
		"api:\n  replicas:\n    min: two\n":                       "api.replicas.min",
		"controller:\n  leaderElection:\n    leaseDuration: 15\n": "controller.leaderElection.leaseDuration",
		"api:\n  rollingUpdate:\n    maxSurge: 1.5\n":             "api.rollingUpdate.maxSurge",
		"api:\n  requests:\n    cpu: lots\n":                      "",
		"controller:\n  leaderElection:\n    retryPeriod: soon\n": "",
		"api: [1, 2]\n":      "",
		"api: {}\napi: {}\n": "",
		"\tapi:\n":           "",
	} {
		_, err := Parse([]byte(in))
		if assert.Error(t, err, "%q", in) && path != "" {
			assert.Contains(t, err.Error(), path)
		}
	}
}

// Each invalid value is an error naming its path in the file.
func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Policy)
		yaml  string
		field string
		typ   field.ErrorType
		// also lists the paths of errors that rightly come with the first.
		also []string
	}{
		{name: "apiVersion", yaml: "apiVersion: ha.laminar.io/v1\n", field: "apiVersion", typ: field.ErrorTypeNotSupported},
		{name: "kind", yaml: "kind: Config\n", field: "kind", typ: field.ErrorTypeNotSupported},
		{name: "api replicas min 0", yaml: "api:\n  replicas:\n    min: 0\n    recommended: 0\n", field: "api.replicas.min", typ: field.ErrorTypeInvalid},
		{name: "api recommended below min", yaml: "api:\n  replicas:\n    recommended: 1\n", field: "api.replicas.recommended", typ: field.ErrorTypeInvalid},
		{name: "controller replicas min negative", yaml: "controller:\n  replicas:\n    min: -1\n", field: "controller.replicas.min", typ: field.ErrorTypeInvalid},
		{name: "controller recommended below min", yaml: "controller:\n  replicas:\n    min: 4\n", field: "controller.replicas.recommended", typ: field.ErrorTypeInvalid},
		{name: "maxUnavailable not a number", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: some\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "maxSurge not a percentage", yaml: "api:\n  rollingUpdate:\n    maxSurge: \"1\"\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "both zero", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: 0%\n    maxSurge: 0\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "negative maxUnavailable", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: -1\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "negative maxSurge percentage", yaml: "api:\n  rollingUpdate:\n    maxSurge: -10%\n", field: "api.rollingUpdate.maxSurge", typ: field.ErrorTypeInvalid},
		{name: "maxUnavailable over 100%", yaml: "api:\n  rollingUpdate:\n    maxUnavailable: 150%\n", field: "api.rollingUpdate.maxUnavailable", typ: field.ErrorTypeInvalid},
		{name: "api anti-affinity key", yaml: "api:\n  antiAffinity:\n    topologyKey: \"\"\n", field: "api.antiAffinity.topologyKey", typ: field.ErrorTypeRequired},
		{name: "api anti-affinity weight 0", yaml: "api:\n  antiAffinity:\n    weight: 0\n", field: "api.antiAffinity.weight", typ: field.ErrorTypeInvalid},
		{name: "api anti-affinity weight 101", yaml: "api:\n  antiAffinity:\n    weight: 101\n", field: "api.antiAffinity.weight", typ: field.ErrorTypeInvalid},
		{name: "controller anti-affinity takes no weight", yaml: "controller:\n  antiAffinity:\n    weight: 50\n", field: "controller.antiAffinity.weight", typ: field.ErrorTypeForbidden},
		{name: "controller anti-affinity key", yaml: "controller:\n  antiAffinity:\n    topologyKey: \"\"\n", field: "controller.antiAffinity.topologyKey", typ: field.ErrorTypeRequired},
		{name: "zone key", yaml: "api:\n  zoneSpread:\n    topologyKey: \"\"\n", field: "api.zoneSpread.topologyKey", typ: field.ErrorTypeRequired},
		{name: "zone skew", yaml: "api:\n  zoneSpread:\n    maxSkew: 0\n", field: "api.zoneSpread.maxSkew", typ: field.ErrorTypeInvalid},
		{name: "zone whenUnsatisfiable", yaml: "api:\n  zoneSpread:\n    whenUnsatisfiable: Sometimes\n", field: "api.zoneSpread.whenUnsatisfiable", typ: field.ErrorTypeNotSupported},
		{name: "probe path", yaml: "api:\n  probes:\n    liveness:\n      path: health\n", field: "api.probes.liveness.path", typ: field.ErrorTypeInvalid},
		{name: "probe port 0", yaml: "api:\n  probes:\n    readiness:\n      port: 0\n", field: "api.probes.readiness.port", typ: field.ErrorTypeInvalid},
		{name: "probe port 70000", yaml: "api:\n  probes:\n    startup:\n      port: 70000\n", field: "api.probes.startup.port", typ: field.ErrorTypeInvalid},
		{name: "probe delay", yaml: "api:\n  probes:\n    startup:\n      initialDelaySeconds: -1\n", field: "api.probes.startup.initialDelaySeconds", typ: field.ErrorTypeInvalid},
		{name: "probe period", yaml: "api:\n  probes:\n    readiness:\n      periodSeconds: 0\n", field: "api.probes.readiness.periodSeconds", typ: field.ErrorTypeInvalid},
		{name: "probe failures", yaml: "api:\n  probes:\n    liveness:\n      failureThreshold: 0\n", field: "api.probes.liveness.failureThreshold", typ: field.ErrorTypeInvalid},
		{name: "cpu 0", yaml: "api:\n  requests:\n    cpu: 0\n", field: "api.requests.cpu", typ: field.ErrorTypeInvalid},
		{name: "memory negative", yaml: "api:\n  requests:\n    memory: -1Mi\n", field: "api.requests.memory", typ: field.ErrorTypeInvalid},
		{name: "grace 0", yaml: "api:\n  terminationGracePeriodSeconds: 0\n  preStop:\n    seconds: 1\n", field: "api.terminationGracePeriodSeconds", typ: field.ErrorTypeInvalid,
			also: []string{"api.preStop.seconds"}},
		{name: "preStop mode", yaml: "api:\n  preStop:\n    mode: shell\n", field: "api.preStop.mode", typ: field.ErrorTypeNotSupported},
		{name: "preStop seconds 0", yaml: "api:\n  preStop:\n    seconds: 0\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "preStop seconds equal to grace", yaml: "api:\n  preStop:\n    seconds: 60\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "preStop seconds above grace", yaml: "api:\n  terminationGracePeriodSeconds: 5\n", field: "api.preStop.seconds", typ: field.ErrorTypeInvalid},
		{name: "lease not above renew", yaml: "controller:\n  leaderElection:\n    leaseDuration: 10s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "renew not above 1.2 × retry", yaml: "controller:\n  leaderElection:\n    retryPeriod: 9s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "retry 0", yaml: "controller:\n  leaderElection:\n    retryPeriod: 0s\n", field: "controller.leaderElection", typ: field.ErrorTypeInvalid},
		{name: "no fast storage classes", yaml: "controller:\n  storage:\n    fastStorageClasses: []\n", field: "controller.storage.fastStorageClasses", typ: field.ErrorTypeRequired},
		{name: "blank storage class", yaml: "controller:\n  storage:\n    fastStorageClasses: [gp3, \" \"]\n", field: "controller.storage.fastStorageClasses[1]", typ: field.ErrorTypeInvalid},
		{name: "min size 0", yaml: "controller:\n  storage:\n    minSize: \"0\"\n", field: "controller.storage.minSize", typ: field.ErrorTypeInvalid},
		{name: "no schemes", yaml: "controller:\n  checkpoints:\n    schemes: []\n", field: "controller.checkpoints.schemes", typ: field.ErrorTypeRequired},
		{name: "file scheme", yaml: "controller:\n  checkpoints:\n    schemes: [file]\n", field: "controller.checkpoints.schemes[0]", typ: field.ErrorTypeInvalid},
		{name: "scheme with ://", yaml: "controller:\n  checkpoints:\n    schemes: [s3, \"gs://\"]\n", field: "controller.checkpoints.schemes[1]", typ: field.ErrorTypeInvalid},
		{name: "empty scheme", yaml: "controller:\n  checkpoints:\n    schemes: [\"\"]\n", field: "controller.checkpoints.schemes[0]", typ: field.ErrorTypeInvalid},
		{name: "interval 0", yaml: "controller:\n  checkpoints:\n    maxInterval: 0s\n", field: "controller.checkpoints.maxInterval", typ: field.ErrorTypeInvalid},
		{name: "interval negative", yaml: "controller:\n  checkpoints:\n    maxInterval: -5s\n", field: "controller.checkpoints.maxInterval", typ: field.ErrorTypeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Parse reports the path in its error text.
			_, err := Parse([]byte(tc.yaml))
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), "policy is invalid")
				assert.Contains(t, err.Error(), tc.field+":")
			}
			// Validate reports it as a field error of the right type.
			p := Default()
			require.NoError(t, yaml.UnmarshalStrict([]byte(tc.yaml), p))
			errs := p.Validate()
			if assert.Len(t, errs, 1+len(tc.also), "%v", errs) {
				assert.Equal(t, tc.field, errs[0].Field)
				assert.Equal(t, tc.typ, errs[0].Type)
				for i, f := range tc.also {
					assert.Equal(t, f, errs[1+i].Field)
				}
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	p := Default()
	p.API.Replicas.Min = 0
	p.Controller.Checkpoints.Schemes = []string{"file"}
	p.Controller.LeaderElection.RetryPeriod.Duration = 0
	var fields []string
	for _, e := range p.Validate() {
		fields = append(fields, e.Field)
	}
	assert.Equal(t, []string{"api.replicas.min", "controller.leaderElection", "controller.checkpoints.schemes[0]"}, fields)
}

func TestLeaderElectionTimingError(t *testing.T) {
	s := time.Second
	tests := []struct {
		lease, renew, retry time.Duration
		want                string
	}{
		{15 * s, 10 * s, 2 * s, ""},
		{60 * s, 40 * s, 5 * s, ""},
		{11 * s, 10 * s, 8 * s, ""},
		{10 * s, 10 * s, 2 * s, "lease duration (10s) must be greater than renew deadline (10s)"},
		{5 * s, 10 * s, 2 * s, "lease duration (5s)"},
		{15 * s, 12 * s, 10 * s, "renew deadline (12s) must be greater than 1.2 × retry period (10s)"},
		{15 * s, 10 * s, 0, "retry period must be positive"},
		{15 * s, 10 * s, -s, "retry period must be positive"},
		{0, -2 * s, s, "renew deadline (-2s)"},
		{-s, -2 * s, s, "renew deadline"},
	}
	for _, tc := range tests {
		got := LeaderElectionTimingError(tc.lease, tc.renew, tc.retry)
		if tc.want == "" {
			assert.Empty(t, got, "%s/%s/%s", tc.lease, tc.renew, tc.retry)
		} else {
			assert.Contains(t, got, tc.want, "%s/%s/%s", tc.lease, tc.renew, tc.retry)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Run("no path means the defaults", func(t *testing.T) {
		p, err := Load("")
		require.NoError(t, err)
		assert.Equal(t, Default(), p)
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.yaml")
		_, err := Load(path)
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), path)
	})
	t.Run("a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		require.NoError(t, os.WriteFile(path, []byte("api:\n  replicas:\n    min: 3\n"), 0o600))
		p, err := Load(path)
		require.NoError(t, err)
		want := Default()
		want.API.Replicas.Min = 3
		assert.Equal(t, want, p)
	})
	t.Run("an invalid file names itself and the field", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		require.NoError(t, os.WriteFile(path, []byte("controller:\n  checkpoints:\n    schemes: [file]\n"), 0o600))
		_, err := Load(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path+":")
		assert.Contains(t, err.Error(), "controller.checkpoints.schemes[0]")
	})
	t.Run("an unknown field names itself", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		require.NoError(t, os.WriteFile(path, []byte("api:\n  replica: 3\n"), 0o600))
		_, err := Load(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path+":")
		assert.Contains(t, err.Error(), `unknown field "replica"`)
	})
	t.Run("the full example", func(t *testing.T) {
		p, err := Load(fullPolicyFile)
		require.NoError(t, err)
		assert.Equal(t, Default(), p)
	})
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
