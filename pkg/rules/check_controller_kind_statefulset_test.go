package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckControllerKindStatefulSet(t *testing.T) {
	const id = "controller-kind-statefulset"
	t.Run("a controller StatefulSet passes", func(t *testing.T) {
		assertNoErrs(t, runCheck(t, id, controllerStatefulSet(), pol()))
	})
	t.Run("a controller Deployment is denied", func(t *testing.T) {
		assertErrs(t, id, runCheck(t, id, controllerDeployment(), pol()),
			invalid("kind", "Deployment", "per-pod persistent volume", "StatefulSet with a volumeClaimTemplate"))
	})
	t.Run("the api is not judged", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, apiDeployment())))
	})
}
