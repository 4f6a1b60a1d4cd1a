package certmanager

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/stretchr/testify/require"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// Names the manifests use.
const (
	namespace    = "laminar-ha-system"
	appName      = "laminar-ha-webhook"
	serviceHost  = appName + "." + namespace + ".svc"
	caCertName   = "laminar-ha-webhook-ca"
	servingName  = "laminar-ha-webhook-serving"
	policyCMName = "laminar-ha-webhook-policy"
	injectCAFrom = "cert-manager.io/inject-ca-from"
)

// rendered is `kubectl kustomize deploy/manifests`, decoded strictly.
type rendered struct {
	Objects []ctrlclient.Object
}

func renderManifests(t *testing.T) *rendered {
	t.Helper()
	out, stderr, err := suite.kubectl(context.Background(), nil, "kustomize", "deploy/manifests")
	require.NoError(t, err, stderr)
	objs, err := devenv.DecodeObjectsWith(suite.Scheme, []byte(out))
	require.NoError(t, err)
	return &rendered{Objects: objs}
}

func one[T ctrlclient.Object](t *testing.T, r *rendered, name string) T {
	t.Helper()
	var found []T
	for _, o := range r.Objects {
		if v, ok := o.(T); ok && o.GetName() == name {
			found = append(found, v)
		}
	}
	require.Len(t, found, 1, "want exactly one %T named %s in deploy/manifests", *new(T), name)
	return found[0]
}

func all[T ctrlclient.Object](r *rendered) []T {
	var out []T
	for _, o := range r.Objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// eventually polls cond every interval until it returns true, an error, or the
// deadline passes. The last "not yet" reason is reported on timeout.
func eventually(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		done, why, err := cond(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
		if why != "" && ctx.Err() == nil {
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s (last: %s)", what, timeout, last)
		case <-tick.C:
		}
	}
}

func mustCerts(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	c, err := certutil.ParseCertsPEM(data)
	require.NoError(t, err)
	return c
}

func serial(c *x509.Certificate) string { return fmt.Sprintf("%x", c.SerialNumber) }

func sameSerial(a, b *big.Int) bool { return a.Cmp(b) == 0 }

func warningLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Warning:") {
			out = append(out, l)
		}
	}
	return out
}

// applyWarnings are the Warning lines of kubectl apply's stderr, less its
// notice that it adopts an object created otherwise (by kubectl create or by
// Helm): the namespace and the Report CRD outlive the Helm phase, and the next
// phase's first apply of each adopts it. Nothing else is expected.
func applyWarnings(stderr string) []string {
	return slices.DeleteFunc(warningLines(stderr), func(l string) bool {
		return strings.Contains(l, "missing the kubectl.kubernetes.io/last-applied-configuration annotation")
	})
}
