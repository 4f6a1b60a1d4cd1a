package review_test

import (
	"bytes"
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
					TimeEncoder:     func(_ time.Time, e zapcore.PrimitiveArrayEncoder) { e.AppendString("then") }})).WithName("admission")
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

// Nothing is built for a logger that writes nothing; a request-less logger is
// the base.
func TestLogConstructorWithoutARequest(t *testing.T) {
	base := logr.Discard()
	assert.Equal(t, admission.DefaultLogConstructor(base, nil), review.LogConstructor(base, nil))
}
