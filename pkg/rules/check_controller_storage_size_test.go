package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerStorageSize(t *testing.T) {
	const id = "controller-storage-size"
	const path = "spec.volumeClaimTemplates[0].spec.resources.requests.storage"
	tests := []struct {
		name   string
		size   string
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "100Gi", size: "100Gi"},
		{name: "1Ti", size: "1Ti"},
		{name: "100Gi in bytes", size: "107374182400"},
		{name: "50Gi", size: "50Gi",
			want: []wantErr{invalid(path, "50Gi", "RocksDB needs at least 100Gi", "request 100Gi or more")}},
		{name: "100G is less than 100Gi", size: "100G", want: []wantErr{invalid(path, "100G")}},
		{name: "one byte short", size: "107374182399", want: []wantErr{invalid(path, "107374182399")}},
		{name: "no storage request", size: "",
			want: []wantErr{required(path, "request at least 100Gi")}},
		{name: "policy minimum", size: "100Gi",
			policy: pol(func(p *policy.Policy) { p.Controller.Storage.MinSize = resource.MustParse("200Gi") }),
			want:   []wantErr{invalid(path, "100Gi", "at least 200Gi")}},
		{name: "policy minimum met", size: "50Gi",
			policy: pol(func(p *policy.Policy) { p.Controller.Storage.MinSize = resource.MustParse("20Gi") })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlClaims(rocksDBClaim("data", str("gp3"), tc.size)))
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
		})
	}

	t.Run("a claim template the controller does not mount is not RocksDB's", func(t *testing.T) {
		s := controllerStatefulSet(ctlClaims(rocksDBClaim("logs", str("gp3"), "1Gi"), rocksDBClaim("data", str("gp3"), "100Gi")))
		assertNoErrs(t, runCheck(t, id, s, pol()))
	})
	t.Run("only the policy's volume is judged", func(t *testing.T) {
		s := controllerStatefulSet(
			ctlClaims(rocksDBClaim("data", str("gp3"), "100Gi"), rocksDBClaim("logs", str("gp3"), "1Gi")),
			ctlMain(func(c *corev1.Container) {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "logs", MountPath: "/logs"})
			}))
		assertErrs(t, id, runCheck(t, id, s, pol()), invalid("spec.volumeClaimTemplates[1].spec.resources.requests.storage", "1Gi"))
		assertNoErrs(t, runCheck(t, id, s, pol(func(p *policy.Policy) { p.Controller.Storage.VolumeName = "data" })))
	})
	t.Run("a controller Deployment is not judged", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, controllerDeployment())))
	})
}
