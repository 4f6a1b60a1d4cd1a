package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerRocksDBVolume denies a controller whose RocksDB is not on a
// volumeClaimTemplate: on emptyDir or hostPath the state dies with the pod or node.
func checkControllerRocksDBVolume(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	if claims, _ := rocksDBClaims(w, p); len(claims) > 0 {
		return nil
	}
	var errs field.ErrorList
	for _, m := range c.VolumeMounts {
		if want := p.Controller.Storage.VolumeName; want != "" && m.Name != want {
			continue
		}
		v, vi := mountedVolumeSource(&w.Template.Spec, m.Name)
		if v == nil {
			continue
		}
		vPath := workload.PodSpecPath.Child("volumes").Index(vi)
		switch {
		case v.EmptyDir != nil:
			errs = append(errs, field.Invalid(vPath.Child("emptyDir"), m.Name,
				fmt.Sprintf("RocksDB at %s on emptyDir is lost with the pod; fix: move it to a volumeClaimTemplate", m.MountPath)))
		case v.HostPath != nil:
			errs = append(errs, field.Invalid(vPath.Child("hostPath"), m.Name,
				fmt.Sprintf("RocksDB at %s on hostPath is lost with the node; fix: move it to a volumeClaimTemplate", m.MountPath)))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	what := "a volumeClaimTemplate mounted by container " + c.Name
	if n := p.Controller.Storage.VolumeName; n != "" {
		what = fmt.Sprintf("a volumeClaimTemplate named %q mounted by container %s", n, c.Name)
	}
	return field.ErrorList{field.Required(volumeClaimTemplatesPath,
		fmt.Sprintf("RocksDB needs %s; fix: add one and mount it at %s", what, cPath.Child("volumeMounts")))}
}
