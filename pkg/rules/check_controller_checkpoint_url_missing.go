package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerCheckpointURLMissing warns when no checkpoint URL can be seen: it
// may come from config this webhook cannot read, so it is not denied. Its details
// are terse because a warning, path and rule ID included, must fit in 120 characters.
func checkControllerCheckpointURLMissing(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	s, ok := checkpointURL(w, p)
	switch {
	case !ok:
		return field.ErrorList{field.Required(cPath.Child("args"), "no checkpoint URL; fix: add --"+p.Controller.Settings.CheckpointURL.Flag)}
	case s.FromRef:
		return field.ErrorList{field.Required(s.Path, "referenced URL is not checked")}
	}
	return nil
}
