package rules

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// rocksDBClaims returns the claim templates that hold RocksDB: the one the policy
// names, else every one the controller's main container mounts, with their indexes.
func rocksDBClaims(w *workload.Workload, p *policy.Policy) (claims []corev1.PersistentVolumeClaim, idx []int) {
	c, _ := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil, nil
	}
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounted[m.Name] = true
	}
	for i, vct := range w.StatefulSet.Spec.VolumeClaimTemplates {
		if want := p.Controller.Storage.VolumeName; want != "" && vct.Name != want {
			continue
		}
		if mounted[vct.Name] {
			claims = append(claims, vct)
			idx = append(idx, i)
		}
	}
	return claims, idx
}

// volumeClaimTemplatesPath is where a StatefulSet declares per-pod volumes.
var volumeClaimTemplatesPath = workload.SpecPath.Child("volumeClaimTemplates")

// fastClassesText lists the storage classes a fix may use.
func fastClassesText(p *policy.Policy) []string {
	return slices.Clone(p.Controller.Storage.FastStorageClasses)
}

// mountedVolumeSource finds how the pod defines a volume the main container mounts.
func mountedVolumeSource(spec *corev1.PodSpec, name string) (*corev1.Volume, int) {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i], i
		}
	}
	return nil, -1
}

// claimPath is the path of the i-th claim template.
func claimPath(i int) *field.Path { return volumeClaimTemplatesPath.Index(i) }
