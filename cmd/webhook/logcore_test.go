package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// encodings counts how often the logger encoded it.
type encodings struct{ n *int }

func (e encodings) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	*e.n++
	enc.AddString("request", "r")
	return nil
}

// A request logger's values MUST be encoded only for the lines the JSON
// logger's sampler lets through, and every line it writes MUST carry them.
func TestJSONLoggerEncodesValuesOnlyForLinesWritten(t *testing.T) {
	var out bytes.Buffer
	log, err := newLogger("json", "info", &out)
	require.NoError(t, err)
	n := 0
	const requests = 1000
	for range requests {
		log.WithValues("values", encodings{&n}).Info("HA defaults applied", "rules", []string{"replicas-min"})
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// controller-runtime's sampler writes the first 100 lines of a message a
	// second, then one in 100: far fewer than 1,000 however the seconds fall.
	require.Less(t, len(lines), requests/2, "the sampler drops most of the lines")
	assert.Equal(t, len(lines), n, "values encoded once for each line written, and never for a dropped one")
	for _, l := range lines {
		assert.Contains(t, l, `"values":{"request":"r"}`)
	}
}

// What a logger writes through deferredWith MUST be byte for byte what the
// core beneath writes with its own With: values in the order added, a
// logger's values not leaking into its siblings'.
func TestDeferredWithWritesWhatTheEagerCoreWrites(t *testing.T) {
	write := func(wrap func(zapcore.Core) zapcore.Core) string {
		var out bytes.Buffer
		cfg := zap.NewProductionEncoderConfig()
		cfg.TimeKey = "" // the clock differs between the two runs
		core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(&out), zapcore.DebugLevel)
		log := zap.New(wrap(core)).Named("admission")
		req := log.With(zap.String("object", "ns/a"), zap.Int("n", 1))
		a := req.With(zap.String("rule", "replicas-min"))
		b := req.With(zap.String("rule", "pdb-exists"), zap.Namespace("detail"), zap.Bool("deep", true))
		a.Info("denied", zap.Strings("rules", []string{"x", "y"}))
		b.Warn("allowed with warnings")
		req.Debug("plain")
		a.With(zap.Int("more", 2)).Error("judging failed", zap.Error(assert.AnError))
		log.Info("no values")
		b.Info("again") // a second line of one logger: its values encoded once, written twice
		return out.String()
	}
	eager := write(func(c zapcore.Core) zapcore.Core { return c })
	require.Equal(t, 6, strings.Count(eager, "\n"))
	assert.Equal(t, eager, write(deferWith))
}

// Levels MUST be the core's beneath: what is disabled there is disabled
// through deferredWith, and zap reads the level through it.
func TestDeferredWithKeepsTheLevel(t *testing.T) {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&bytes.Buffer{}), zapcore.WarnLevel)
	d := deferWith(core).With([]zapcore.Field{zap.String("a", "b")})
	assert.False(t, d.Enabled(zapcore.InfoLevel))
	assert.True(t, d.Enabled(zapcore.ErrorLevel))
	assert.Equal(t, zapcore.WarnLevel, zapcore.LevelOf(d))
	assert.Nil(t, d.Check(zapcore.Entry{Level: zapcore.InfoLevel}, nil), "a disabled entry is not checked in")
}
