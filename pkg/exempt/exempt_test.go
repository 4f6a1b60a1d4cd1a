package exempt_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/laminar/ha-webhook/pkg/exempt"
)

// TestCoversDependsOnlyOnTheTimeGiven judges one exemption at times around its
// expiry, years apart: the answer follows the time handed in, never the machine's.
func TestCoversDependsOnlyOnTheTimeGiven(t *testing.T) {
	for _, at := range []time.Time{time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)} {
		until := at.Add(time.Hour)
		e := exempt.Read(map[string]string{
			exempt.AnnotationRules:  "replicas-min, exemption-reason",
			exempt.AnnotationReason: "INC-7",
			exempt.AnnotationUntil:  until.Format(time.RFC3339),
		})
		assert.True(t, e.Covers("replicas-min", at), "before expiry")
		assert.True(t, e.Covers("replicas-min", until.Add(-time.Second)), "a second before expiry")
		assert.False(t, e.Covers("replicas-min", until), "at expiry")
		assert.False(t, e.Covers("replicas-min", until.Add(24*time.Hour)), "after expiry")
		assert.False(t, e.Covers("api-zone-spread", at), "a rule not named")
		assert.False(t, e.Covers("exemption-reason", at), "exemption rules cannot be exempted")
		assert.Empty(t, exempt.ValidateNotExpired(e, at))
		assert.Len(t, exempt.ValidateNotExpired(e, until), 1)
	}
}

func TestAnExemptionWithoutReasonOrWithABadDateCoversNothing(t *testing.T) {
	at := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	noReason := exempt.Read(map[string]string{exempt.AnnotationRules: "replicas-min"})
	assert.False(t, noReason.Covers("replicas-min", at))
	assert.Len(t, exempt.ValidateReason(noReason), 1)

	badDate := exempt.Read(map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "r", exempt.AnnotationUntil: "next week"})
	assert.False(t, badDate.Covers("replicas-min", at))
	assert.Len(t, exempt.ValidateUntil(badDate), 1)
	assert.Empty(t, exempt.ValidateNotExpired(badDate, at), "an unreadable date is reported as such, not as expired")

	none := exempt.Read(nil)
	assert.False(t, none.Requested())
	assert.Empty(t, exempt.ValidateReason(none))
	assert.Empty(t, exempt.ValidateRuleNames(none, func(string) bool { return false }))
}
