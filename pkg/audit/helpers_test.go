package audit

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

type prometheusMetric = prometheus.Metric

// labelsOf renders a metric's label values as "a/b/c".
func labelsOf(t *testing.T, m prometheus.Metric) string {
	t.Helper()
	var pb dto.Metric
	require.NoError(t, m.Write(&pb))
	var vals []string
	for _, l := range pb.GetLabel() {
		vals = append(vals, l.GetValue())
	}
	return strings.Join(vals, "/")
}
