package rules

import (
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkpointURL reads the controller's checkpoint URL from --checkpoint-url, else
// from LAMINAR_CHECKPOINT_URL.
func checkpointURL(w *workload.Workload, p *policy.Policy) (setting, bool) {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return setting{}, false
	}
	return findSetting(c, cPath, flagCheckpointURL, envCheckpointURL)
}
