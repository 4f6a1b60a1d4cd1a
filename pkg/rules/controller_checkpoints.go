package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkpointURL reads the controller's checkpoint URL where the policy's
// controller.settings.checkpointURL says: its flag, else its variable.
func checkpointURL(w *workload.Workload, p *policy.Policy) (setting, bool) {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return setting{}, false
	}
	return findSetting(c, cPath, p.Controller.Settings.CheckpointURL, true)
}
