package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerArtifactsURL, for the guide's storage.artifacts.url (read where
// the policy's controller.settings.artifactsURL says), denies pipeline artifacts written anywhere but
// durable object storage, as the guide's Disaster Recovery section puts them
// beside the checkpoints: a local path dies with the pod's volume. No URL is
// not judged: the guide names no default, and where artifacts go may be
// configured elsewhere.
func checkControllerArtifactsURL(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	s, ok := findSetting(c, cPath, p.Controller.Settings.ArtifactsURL, true)
	if !ok {
		return nil
	}
	return validateObjectStorageURL(s, p.Controller.Checkpoints.Schemes, "s3://my-bucket/laminar/artifacts", "artifacts are lost with the pod")
}
