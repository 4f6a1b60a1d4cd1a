package policy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

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
