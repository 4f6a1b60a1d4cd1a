package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/laminar/ha-webhook/pkg/policy"
)

func TestCheckControllerRocksDBVolume(t *testing.T) {
	const id = "controller-rocksdb-volume"
	const vcts = "spec.volumeClaimTemplates"
	emptyDir := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	}
	hostPath := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/laminar"}}}
	}
	configMap := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "laminar"},
		}}}
	}
	mount := func(name, path string) corev1.VolumeMount { return corev1.VolumeMount{Name: name, MountPath: path} }
	volumeName := func(n string) *policy.Policy {
		return pol(func(p *policy.Policy) { p.Controller.Storage.VolumeName = n })
	}

	tests := []struct {
		name    string
		claims  []corev1.PersistentVolumeClaim
		volumes []corev1.Volume
		mounts  []corev1.VolumeMount
		policy  *policy.Policy
		want    []wantErr
	}{
		{name: "mounted claim template", claims: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			mounts: []corev1.VolumeMount{mount("data", rocksDBMountPath)}},
		{name: "mounted claim template next to an emptyDir scratch volume",
			claims:  []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			volumes: []corev1.Volume{emptyDir("tmp")},
			mounts:  []corev1.VolumeMount{mount("tmp", "/tmp"), mount("data", rocksDBMountPath)}},
		{name: "RocksDB on emptyDir", volumes: []corev1.Volume{emptyDir("data")},
			mounts: []corev1.VolumeMount{mount("data", rocksDBMountPath)},
			want:   []wantErr{invalid("spec.template.spec.volumes[0].emptyDir", "data", "RocksDB at /var/lib/laminar on emptyDir is lost with the pod", "move it to a volumeClaimTemplate")}},
		{name: "RocksDB on hostPath", volumes: []corev1.Volume{configMap("config"), hostPath("data")},
			mounts: []corev1.VolumeMount{mount("config", "/etc/laminar"), mount("data", rocksDBMountPath)},
			want:   []wantErr{invalid("spec.template.spec.volumes[1].hostPath", "data", "on hostPath is lost with the node")}},
		{name: "nothing mounted at all",
			want: []wantErr{required(vcts, "RocksDB needs a volumeClaimTemplate mounted by container controller", "mount it at spec.template.spec.containers[0].volumeMounts")}},
		{name: "only a configMap mounted", volumes: []corev1.Volume{configMap("config")},
			mounts: []corev1.VolumeMount{mount("config", "/etc/laminar")},
			want:   []wantErr{required(vcts)}},
		{name: "claim template not mounted", claims: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			want: []wantErr{required(vcts)}},
		{name: "claim template mounted under another name", claims: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			mounts: []corev1.VolumeMount{mount("rocksdb", rocksDBMountPath)},
			want:   []wantErr{required(vcts)}},
		{name: "policy volume name matches", policy: volumeName("data"),
			claims: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			mounts: []corev1.VolumeMount{mount("data", rocksDBMountPath)}},
		{name: "policy volume name absent", policy: volumeName("rocksdb"),
			claims: []corev1.PersistentVolumeClaim{rocksDBClaim("data", str("gp3"), "100Gi")},
			mounts: []corev1.VolumeMount{mount("data", rocksDBMountPath)},
			want:   []wantErr{required(vcts, `a volumeClaimTemplate named "rocksdb" mounted by container controller`)}},
		{name: "policy volume name on a claim template next to emptyDir scratch", policy: volumeName("rocksdb"),
			claims:  []corev1.PersistentVolumeClaim{rocksDBClaim("rocksdb", str("gp3"), "100Gi")},
			volumes: []corev1.Volume{emptyDir("data")},
			mounts:  []corev1.VolumeMount{mount("data", "/scratch"), mount("rocksdb", rocksDBMountPath)}},
		{name: "policy volume name on emptyDir: only that volume is blamed", policy: volumeName("rocksdb"),
			volumes: []corev1.Volume{emptyDir("tmp"), emptyDir("rocksdb")},
			mounts:  []corev1.VolumeMount{mount("tmp", "/tmp"), mount("rocksdb", rocksDBMountPath)},
			want:    []wantErr{invalid("spec.template.spec.volumes[1].emptyDir", "rocksdb", "RocksDB at /var/lib/laminar")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = pol()
			}
			s := controllerStatefulSet(ctlClaims(tc.claims...),
				ctlPod(func(s *corev1.PodSpec) { s.Volumes = tc.volumes }),
				ctlMain(func(c *corev1.Container) { c.VolumeMounts = tc.mounts }))
			assertErrs(t, id, runCheck(t, id, s, p), tc.want...)
		})
	}

	t.Run("a claim template mounted only by a sidecar does not count", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			backup := sidecar("backup")
			backup.VolumeMounts = s.Containers[0].VolumeMounts
			s.Containers[0].VolumeMounts = nil
			s.Containers = append(s.Containers, backup)
		}))
		assertErrs(t, id, runCheck(t, id, s, pol()), required(vcts, "mounted by container controller"))
	})
	t.Run("the policy's main container", func(t *testing.T) {
		s := controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) {
			s.Containers = append([]corev1.Container{{Name: "engine", VolumeMounts: s.Containers[0].VolumeMounts}}, s.Containers...)
			s.Containers[1].VolumeMounts = nil
		}))
		assertErrs(t, id, runCheck(t, id, s, pol()), required(vcts, "spec.template.spec.containers[1].volumeMounts"))
		assertNoErrs(t, runCheck(t, id, s, pol(func(p *policy.Policy) { p.Controller.ContainerName = "engine" })))
	})
	t.Run("no containers", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(ctlPod(func(s *corev1.PodSpec) { s.Containers = nil })), pol()))
	})
	t.Run("a controller Deployment is left to controller-kind-statefulset", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, controllerDeployment())))
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, apiStatefulSet(func(*appsv1.StatefulSet) {}))))
	})
}
