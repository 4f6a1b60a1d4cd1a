package parentdeath

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatus(t *testing.T) {
	m, err := ParseStatus([]byte("Name:\tlaminar-ha-webh\nVmHWM:\t   63300 kB\nVmRSS:\t   62000 kB\nRssAnon:\t   19000 kB\nRssFile:\t   43000 kB\nThreads:\t9\n"))
	require.NoError(t, err)
	assert.Equal(t, Memory{RSS: 62000 << 10, Peak: 63300 << 10, Anon: 19000 << 10, File: 43000 << 10}, m)

	_, err = ParseStatus([]byte("Name:\tx\nThreads:\t9\n"))
	assert.Error(t, err, "no VmHWM")
}

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a parenthesis; utime 150, stime 50 ticks.
	stat := "4242 (web hook) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 1000 1 1\n"
	cpu, err := ParseStatCPU([]byte(stat))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, cpu)

	_, err = ParseStatCPU([]byte("4242 (x) S 1 2"))
	assert.Error(t, err)
	_, err = ParseStatCPU([]byte("no parenthesis"))
	assert.Error(t, err)
}
