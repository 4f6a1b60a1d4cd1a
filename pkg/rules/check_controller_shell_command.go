package rules

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkControllerShellCommand warns when the controller's main container runs
// a shell script (sh -c "…"). The flags the rules read (leader election,
// checkpoints, artifacts) are then only text in the script: quoting, variables
// and branches decide what the binary gets, so they are read best effort and
// unverified, and words in args after the script become its $0, $1, … rather
// than the binary's flags. The fix is flags in args with the binary as the
// command, or the settings' environment variables, which reach the binary
// through any shell. Its detail is terse because a warning, path and rule ID
// included, must fit in 120 characters.
func checkControllerShellCommand(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	c, cPath := w.MainContainer(p.Controller.ContainerName)
	if c == nil {
		return nil
	}
	script, ok := shellScript(c)
	if !ok {
		return nil
	}
	return field.ErrorList{field.Invalid(script.path(cPath), script.text, "script flags are unverified; fix: args or env")}
}
