package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerStorageClass(t *testing.T) {
	const id = "controller-storage-class"
	const path = "spec.volumeClaimTemplates[0].spec.storageClassName"
	tests := []struct {
		name   string
		class  *string
		policy *policy.Policy
		want   []wantErr
	}{
		{name: "gp3", class: str("gp3")},
		{name: "premium-rwo", class: str("premium-rwo")},
		{name: "managed-csi-premium", class: str("managed-csi-premium")},
		{name: "unset means the cluster default", class: nil,
			want: []wantErr{required(path, "not the cluster default", `set one of "gp3", "premium-rwo", "managed-csi-premium"`)}},
		{name: "empty string", class: str(""),
			want: []wantErr{required(path, "fast SSD class")}},
		{name: "standard", class: str("standard"),
			want: []wantErr{invalid(path, "standard", "is not a known fast SSD class", `use one of "gp3", "premium-rwo", "managed-csi-premium"`)}},
		{name: "gp2", class: str("gp2"), want: []wantErr{invalid(path, "gp2")}},
		{name: "class names are exact", class: str("GP3"), want: []wantErr{invalid(path, "GP3")}},
		{name: "policy classes", class: str("gp3"),
			policy: pol(func(p *policy.Policy) { p.Controller.Storage.FastStorageClasses = []string{"fast-ssd"} }),
			want:   []wantErr{invalid(path, "gp3", `use one of "fast-ssd"`)}},
		{name: "policy classes accept theirs", class: str("fast-ssd"),
			policy: pol(func(p *policy.Policy) { p.Controller.Storage.FastStorageClasses = []string{"fast-ssd"} })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlClaims(rocksDBClaim("data", tc.class, "100Gi")))
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
		})
	}

	t.Run("a claim template the controller does not mount is not RocksDB's", func(t *testing.T) {
		s := controllerStatefulSet(ctlClaims(rocksDBClaim("logs", str("standard"), "10Gi"), rocksDBClaim("data", str("gp3"), "100Gi")))
		assertNoErrs(t, runCheck(t, id, s, pol()))
	})
	t.Run("every mounted claim template is judged", func(t *testing.T) {
		s := controllerStatefulSet(
			ctlClaims(rocksDBClaim("data", str("gp3"), "100Gi"), rocksDBClaim("wal", str("standard"), "100Gi")),
			ctlMain(func(c *corev1.Container) {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "wal", MountPath: "/wal"})
			}))
		assertErrs(t, id, runCheck(t, id, s, pol()), invalid("spec.volumeClaimTemplates[1].spec.storageClassName", "standard"))
	})
	t.Run("only the policy's volume is judged", func(t *testing.T) {
		s := controllerStatefulSet(
			ctlClaims(rocksDBClaim("logs", str("standard"), "1Gi"), rocksDBClaim("data", str("gp3"), "100Gi")),
			ctlMain(func(c *corev1.Container) {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "logs", MountPath: "/logs"})
			}))
		assertErrs(t, id, runCheck(t, id, s, pol()), invalid("spec.volumeClaimTemplates[0].spec.storageClassName", "standard"))
		assertNoErrs(t, runCheck(t, id, s, pol(func(p *policy.Policy) { p.Controller.Storage.VolumeName = "data" })))
	})
	t.Run("no RocksDB claim is left to controller-rocksdb-volume", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlClaims()), pol()))
	})
	t.Run("a controller Deployment is not judged", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, controllerDeployment())))
	})
}
