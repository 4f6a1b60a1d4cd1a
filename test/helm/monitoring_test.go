package helm

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// The monitoring objects decode strictly into prometheus-operator's own types
// (an unknown or misplaced field fails), scrape what the webhook serves, and
// the PrometheusRule holds exactly the README's alerts.
func TestMonitoringObjectsAreTyped(t *testing.T) {
	r := findRepo(t)
	for _, mode := range []string{"certManager", "selfManaged"} {
		t.Run(mode, func(t *testing.T) {
			objs := r.mustTemplate(t, append(valueSets["monitoring"], "--set", "certificates.mode="+mode)...)
			var sm monitoringv1.ServiceMonitor
			strict(t, yamlOf(t, find(t, objs, "ServiceMonitor", appName).Object), &sm)
			require.Len(t, sm.Spec.Endpoints, 1)
			ep := sm.Spec.Endpoints[0]
			require.NotNil(t, ep.Scheme)
			assert.Equal(t, "https", strings.ToLower(ep.Scheme.String()))
			assert.Equal(t, "8080", ep.TargetPort.String(), "the Deployment's metrics port")
			require.NotNil(t, ep.TLSConfig)
			require.NotNil(t, ep.TLSConfig.ServerName)
			assert.Equal(t, serviceHost, *ep.TLSConfig.ServerName)
			assert.Equal(t, map[string]string{"app.kubernetes.io/name": appName}, sm.Spec.Selector.MatchLabels)

			var pr monitoringv1.PrometheusRule
			strict(t, yamlOf(t, find(t, objs, "PrometheusRule", appName).Object), &pr)
			require.Len(t, pr.Spec.Groups, 1)
			got := map[string]string{}
			for _, rule := range pr.Spec.Groups[0].Rules {
				require.NotNil(t, rule.For, rule.Alert)
				got[rule.Alert] = squash(rule.Expr.String())
			}
			want := readmeAlerts(t, r)
			if mode == "certManager" {
				for k, v := range installDocAlerts(t, r) {
					want[k] = v
				}
			}
			assert.Equal(t, want, got)
		})
	}
}

func strict(t *testing.T, doc string, into any) {
	t.Helper()
	require.NoError(t, yaml.UnmarshalStrict([]byte(doc), into))
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

var alertBlockRE = regexp.MustCompile("(?s)```yaml\n(- alert: .*?)```")

// alerts reads the `- alert:` YAML blocks of a document.
func alerts(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range alertBlockRE.FindAllStringSubmatch(string(data), -1) {
		var list []struct {
			Alert, Expr string
		}
		require.NoError(t, yaml.Unmarshal([]byte(m[1]), &list), path)
		for _, a := range list {
			out[a.Alert] = squash(a.Expr)
		}
	}
	require.NotEmpty(t, out, "%s has no alerts", path)
	return out
}

func readmeAlerts(t *testing.T, r repo) map[string]string {
	return alerts(t, filepath.Join(r.Root, "README.md"))
}

func installDocAlerts(t *testing.T, r repo) map[string]string {
	return alerts(t, filepath.Join(r.Root, "docs/install.md"))
}
