package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// The guide's storage.artifacts.url, as this project assumes the binary takes
// it (like the checkpoint URL: a flag, else an environment variable).
const (
	flagArtifactsURL = "artifacts-url"
	envArtifactsURL  = "LAMINAR_ARTIFACTS_URL"
)

// checkControllerArtifactsURL denies pipeline artifacts written anywhere but
// durable object storage, as the guide's Disaster Recovery section puts them
// beside the checkpoints: a local path dies with the pod's volume. No URL is
// not judged: the guide names no default, and where artifacts go may be
// configured elsewhere.
func checkControllerArtifactsURL(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	s, ok := findSetting(c, cPath, flagArtifactsURL, envArtifactsURL)
	if !ok {
		return nil
	}
	return validateObjectStorageURL(s, p.Controller.Checkpoints.Schemes, "s3://my-bucket/laminar/artifacts", "artifacts are lost with the pod")
}
