package review

import (
	"sync"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// LogConstructor is admission.DefaultLogConstructor built when the request's
// logger first writes, not for every request: zap encodes a logger's values
// when they are added, and most requests log nothing at the level in force.
// What a logger writes is the default constructor's, line for line.
func LogConstructor(base logr.Logger, req *admission.Request) logr.Logger {
	if req == nil || base.GetSink() == nil {
		return admission.DefaultLogConstructor(base, req)
	}
	return logr.New(&lazySink{base: base, req: req})
}

// lazySink is the sink of DefaultLogConstructor(base, req), with the values
// and names added since, made on first use.
type lazySink struct {
	base   logr.Logger
	req    *admission.Request
	values []any
	names  []string
	once   sync.Once
	sink   logr.LogSink
}

// built is the sink the default constructor, the values and the names give,
// one frame deeper: the caller a line names is the one that logged, not this
// wrapper.
func (s *lazySink) built() logr.LogSink {
	s.once.Do(func() {
		l := admission.DefaultLogConstructor(s.base, s.req)
		for _, n := range s.names {
			l = l.WithName(n)
		}
		if len(s.values) > 0 {
			l = l.WithValues(s.values...)
		}
		s.sink = l.GetSink()
		if d, ok := s.sink.(logr.CallDepthLogSink); ok {
			s.sink = d.WithCallDepth(1)
		}
	})
	return s.sink
}

// Init is a no-op: the base logger's sink is initialized already.
func (s *lazySink) Init(logr.RuntimeInfo) {}

func (s *lazySink) Enabled(level int) bool { return s.base.GetSink().Enabled(level) }

func (s *lazySink) Info(level int, msg string, keysAndValues ...any) {
	s.built().Info(level, msg, keysAndValues...)
}

func (s *lazySink) Error(err error, msg string, keysAndValues ...any) {
	s.built().Error(err, msg, keysAndValues...)
}

// WithValues adds values to a logger still unbuilt; none (as
// controller-runtime's log.FromContext adds) is the same logger.
func (s *lazySink) WithValues(keysAndValues ...any) logr.LogSink {
	if len(keysAndValues) == 0 {
		return s
	}
	return &lazySink{base: s.base, req: s.req, names: s.names,
		values: append(append(make([]any, 0, len(s.values)+len(keysAndValues)), s.values...), keysAndValues...)}
}

func (s *lazySink) WithName(name string) logr.LogSink {
	return &lazySink{base: s.base, req: s.req, values: s.values,
		names: append(append(make([]string, 0, len(s.names)+1), s.names...), name)}
}
