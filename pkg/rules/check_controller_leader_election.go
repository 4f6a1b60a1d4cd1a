package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerLeaderElection denies several controller replicas without leader
// election: each would process the same pipelines.
func checkControllerLeaderElection(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil || w.Replicas() <= 1 {
		return nil
	}
	f, ok := findFlag(c, cPath, flagLeaderElect, false)
	if !ok {
		return field.ErrorList{field.Required(cPath.Child("args"),
			fmt.Sprintf("%d controller replicas need leader election; fix: add --leader-elect=true", w.Replicas()))}
	}
	on, valid := boolFlagValue(f)
	switch {
	case !valid:
		return field.ErrorList{field.Invalid(f.Path, "--"+flagLeaderElect+"="+f.Value, "is not a boolean; fix: use --leader-elect=true")}
	case !on:
		return field.ErrorList{field.Invalid(f.Path, "--"+flagLeaderElect+"="+f.Value,
			fmt.Sprintf("%d controller replicas without leader election all run pipelines; fix: use --leader-elect=true", w.Replicas()))}
	}
	return nil
}
