package review_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/review"
)

// emit logs as a handler does, from one line for every constructor, so the
// caller each line names is the same.
func emit(log logr.Logger) {
	log.Info("decided", "rules", []string{"a", "b"})
	log.V(1).Info("debug detail", "k", 1)
	log.Error(errors.New("boom"), "failed", "k", 2)
	log.WithValues("extra", true).Info("with values")
	log.WithName("sub").Info("named")
	log.WithValues().Info("no values added, as log.FromContext adds")
	log.WithValues("a", 1).WithName("sub").WithValues("b", 2).WithName("subsub").V(1).Info("chained", "c", 3)
	log.WithName("sub").Error(errors.New("boom"), "named error")
}

// The lazy constructor MUST write what admission.DefaultLogConstructor
// writes, line for line, caller included, at either level and format.
func TestLogConstructorWritesWhatTheDefaultWrites(t *testing.T) {
	req := &admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u-1", Name: "laminar-api", Namespace: "pipelines",
		Resource: metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
		UserInfo: authenticationv1.UserInfo{Username: "alice"},
	}}
	for _, development := range []bool{false, true} {
		for _, level := range []zapcore.Level{zapcore.InfoLevel, zapcore.DebugLevel} {
			write := func(construct func(logr.Logger, *admission.Request) logr.Logger) string {
				var out bytes.Buffer
				base := zap.New(zap.UseFlagOptions(&zap.Options{DestWriter: &out, Development: development, Level: level,
					StacktraceLevel: zapcore.PanicLevel, ZapOpts: []uberzap.Option{uberzap.AddCaller()},
					TimeEncoder: func(_ time.Time, e zapcore.PrimitiveArrayEncoder) { e.AppendString("then") }})).WithName("admission")
				emit(construct(base, req))
				return out.String()
			}
			want := write(admission.DefaultLogConstructor)
			require.Contains(t, want, "laminar-api")
			require.Contains(t, want, "review/log_test.go:", "the caller is named")
			assert.Equal(t, want, write(review.LogConstructor), "development %v, level %v", development, level)
		}
	}
}

// A logger that writes nothing builds nothing, however it is passed on: zap
// encodes no value for it.
func TestLogConstructorBuildsNothingForALoggerThatWritesNothing(t *testing.T) {
	sink := &countingSink{}
	log := review.LogConstructor(logr.New(sink), &admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "u"}})
	ctx := logf.IntoContext(context.Background(), log)
	logf.FromContext(ctx).V(1).Info("not written")
	logf.FromContext(ctx).WithValues("k", 1).WithName("n").V(1).Info("not written either")
	assert.Zero(t, sink.withValues, "nothing built")
	logf.FromContext(ctx).Info("written")
	assert.Equal(t, 1, sink.withValues, "built once, when written")
	assert.Equal(t, 1, sink.infos)
}

// countingSink writes at level 0 only and counts what it is asked.
type countingSink struct {
	withValues, infos int
}

func (s *countingSink) Init(logr.RuntimeInfo)       {}
func (s *countingSink) Enabled(level int) bool      { return level == 0 }
func (s *countingSink) Info(int, string, ...any)    { s.infos++ }
func (s *countingSink) Error(error, string, ...any) {}
func (s *countingSink) WithValues(...any) logr.LogSink {
	s.withValues++
	return s
}
func (s *countingSink) WithName(string) logr.LogSink { return s }

// A request-less logger is the base.
func TestLogConstructorWithoutARequest(t *testing.T) {
	base := logr.Discard()
	assert.Equal(t, admission.DefaultLogConstructor(base, nil), review.LogConstructor(base, nil))
}
