package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckAPIKindDeployment(t *testing.T) {
	const id = "api-kind-deployment"
	t.Run("an api StatefulSet warns", func(t *testing.T) {
		assertErrs(t, id, runCheck(t, id, apiStatefulSet(), pol()), invalid("kind", "StatefulSet", "Deployment"))
	})
	t.Run("an api Deployment is not judged", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, apiDeployment())))
	})
	t.Run("a controller StatefulSet is not judged", func(t *testing.T) {
		assert.False(t, checkRule(t, id).AppliesTo(wl(t, controllerStatefulSet())))
	})
}
