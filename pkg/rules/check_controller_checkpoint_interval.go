package rules

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerCheckpointInterval warns when checkpoints are further apart than
// the guide's 30s: a failover then replays more work. Its details are terse because
// a warning, path and rule ID included, must fit in 120 characters.
func checkControllerCheckpointInterval(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	s, ok := findSetting(c, cPath, p.Controller.Settings.CheckpointInterval, true)
	if !ok || s.FromRef {
		return nil
	}
	max := p.Controller.Checkpoints.MaxInterval.Duration
	d, err := time.ParseDuration(s.Value)
	switch {
	case err != nil:
		return field.ErrorList{field.Invalid(s.Path, s.Value, "not a duration; fix: use e.g. "+max.String())}
	case d > max:
		return field.ErrorList{field.Invalid(s.Path, s.Value, "exceeds "+max.String()+"; fix: set "+max.String()+" or less")}
	}
	return nil
}
