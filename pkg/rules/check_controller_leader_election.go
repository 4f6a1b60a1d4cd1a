package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerLeaderElection denies several controller replicas without leader
// election: each would process the same pipelines. The setting is read as
// set-controller-leader-election writes it: the flag, else the variable. In a
// shell script the flag is read from the script's text: a false there is
// denied, since the user wrote it, while a true is taken on trust and
// controller-shell-command warns that it is unverified. A variable from a
// Secret or ConfigMap cannot be read and is not judged.
func checkControllerLeaderElection(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil || w.Replicas() <= 1 {
		return nil
	}
	name := p.Controller.Settings.LeaderElect
	fix := fmt.Sprintf("set env %s=true or --%s=true", name.Env, name.Flag)
	s, ok := findSetting(c, cPath, name, false)
	if !ok {
		return field.ErrorList{field.Required(cPath.Child("env"),
			fmt.Sprintf("%d controller replicas need leader election; fix: %s", w.Replicas(), fix))}
	}
	if s.FromRef {
		return nil
	}
	on, valid := boolFlagValue(s.flag)
	shown := s.shown(name.Flag)
	if !s.HasValue {
		shown = "--" + name.Flag
	}
	switch {
	case !valid:
		return field.ErrorList{field.Invalid(s.Path, shown, "is not a boolean; fix: "+fix)}
	case !on:
		return field.ErrorList{field.Invalid(s.Path, shown,
			fmt.Sprintf("%d controller replicas without leader election all run pipelines; fix: %s", w.Replicas(), fix))}
	}
	return nil
}
