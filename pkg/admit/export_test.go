package admit

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/laminar/ha-webhook/pkg/mutate"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
)

// FailMutation makes every mutation fail with err until the returned func runs.
func FailMutation(err error) (restore func()) {
	mutateObject = func(runtime.Object, []byte, *policy.Policy, rules.Situation) (mutate.Result, error) {
		return mutate.Result{}, err
	}
	return func() { mutateObject = mutate.Object }
}
