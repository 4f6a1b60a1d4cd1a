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

// TestGrantingIsAddingOrChanging: only a write that asks for an exemption in
// words the stored object did not use grants one.
func TestGrantingIsAddingOrChanging(t *testing.T) {
	e := map[string]string{exempt.AnnotationRules: "replicas-min", exempt.AnnotationReason: "INC-7"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for key, val := range e {
			m[key] = val
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	assert.True(t, exempt.Granting(e, nil), "create")
	assert.True(t, exempt.Granting(e, map[string]string{"team": "payments"}), "added on update")
	assert.False(t, exempt.Granting(e, e), "unchanged")
	assert.False(t, exempt.Granting(with("team", "x"), e), "another annotation changed")
	assert.True(t, exempt.Granting(with(exempt.AnnotationRules, "replicas-min,api-zone-spread"), e), "a rule added")
	assert.True(t, exempt.Granting(with(exempt.AnnotationReason, "because"), e), "the reason changed")
	assert.True(t, exempt.Granting(with(exempt.AnnotationUntil, "2099-01-01T00:00:00Z"), e), "an expiry added")
	assert.True(t, exempt.Granting(e, with(exempt.AnnotationUntil, "2099-01-01T00:00:00Z")), "the expiry removed")
	assert.False(t, exempt.Granting(nil, e), "the exemption removed")
	assert.False(t, exempt.Granting(with(exempt.AnnotationRules, " , "), nil), "an empty list asks for nothing")
}
