package main

import (
	"slices"
	"sync"

	"go.uber.org/zap/zapcore"
)

// deferredWith is a zap core whose With keeps the fields it is given and
// encodes them when an entry is first checked through it, not when they are
// added. Beneath controller-runtime's sampler, which drops an entry before it
// asks the core below, a request logger's values (object, user, request ID)
// are then encoded only for the lines the sampler lets through. Under load
// most decision lines ("HA defaults applied", "denied") are sampled away, and
// encoding their values eagerly was 2 % of the server's CPU
// (docs/performance.md).
//
// A line is byte for byte what the eager core writes. As with zap's own
// WithLazy, a field is read when the line is written: a field holding a
// pointer shows what it points to then. The request logger's values are
// strings and structs, copied when they are added.
type deferredWith struct {
	core   zapcore.Core    // the core beneath, with none of fields
	fields []zapcore.Field // added since, in order

	once sync.Once
	with zapcore.Core // core.With(fields), made once
}

// deferWith wraps core (see deferredWith); zap.WrapCore takes it.
func deferWith(core zapcore.Core) zapcore.Core { return &deferredWith{core: core} }

func (d *deferredWith) Enabled(l zapcore.Level) bool { return d.core.Enabled(l) }

// Level lets zap.Logger.Level and zapcore.LevelOf see the level beneath.
func (d *deferredWith) Level() zapcore.Level { return zapcore.LevelOf(d.core) }

func (d *deferredWith) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 {
		return d
	}
	// Clipped, so that two loggers made from this one never share an array.
	return &deferredWith{core: d.core, fields: append(slices.Clip(d.fields), fields...)}
}

func (d *deferredWith) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return d.built().Check(e, ce)
}

func (d *deferredWith) Write(e zapcore.Entry, fields []zapcore.Field) error {
	return d.built().Write(e, fields)
}

func (d *deferredWith) Sync() error { return d.core.Sync() }

func (d *deferredWith) built() zapcore.Core {
	if len(d.fields) == 0 {
		return d.core
	}
	d.once.Do(func() { d.with = d.core.With(d.fields) })
	return d.with
}
