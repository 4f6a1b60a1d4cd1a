package devenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestCertsVerifyForServiceName(t *testing.T) {
	c, err := NewCerts(ServiceHost, "localhost")
	require.NoError(t, err)

	pair, err := tls.X509KeyPair(c.Cert, c.Key)
	require.NoError(t, err, "tls.crt and tls.key form a pair")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "ECDSA key")
	assert.Equal(t, elliptic.P256(), key.Curve)

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(c.CACert))
	for _, name := range []string{ServiceHost, "localhost", "127.0.0.1"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		assert.NoError(t, err, name)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "other.laminar-ha-system.svc", Roots: roots})
	assert.Error(t, err)

	block, _ := pem.Decode(c.CACert)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
}

// The manifests decode strictly and localize touches only what it should.
func TestLocalizeManifests(t *testing.T) {
	root, err := FindRepoRoot()
	require.NoError(t, err)
	objs, err := LoadManifests(root)
	require.NoError(t, err)

	certs, err := NewCerts(ServiceHost)
	require.NoError(t, err)
	e := &Env{WebhookPort: 40443, Certs: certs}
	require.NoError(t, e.localize(objs))

	hooks := 0
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			assert.Equal(t, corev1.ServiceTypeExternalName, o.Spec.Type)
			assert.Equal(t, "localhost", o.Spec.ExternalName)
			assert.Empty(t, o.Spec.Selector)
			assert.Empty(t, o.Spec.ClusterIP)
			assert.Equal(t, []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 40443, TargetPort: intstr.FromInt32(40443)}}, o.Spec.Ports)
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			for _, w := range o.Webhooks {
				hooks++
				assert.Equal(t, int32(40443), *w.ClientConfig.Service.Port, w.Name)
				assert.Equal(t, certs.CACert, w.ClientConfig.CABundle, w.Name)
				// Defaults are a convenience; recording enforcement coming back on is not.
				want := admissionregistrationv1.Ignore
				if w.Name == "stamp-namespace.ha.laminar.io" {
					want = admissionregistrationv1.Fail
				}
				assert.Equal(t, want, *w.FailurePolicy, w.Name)
			}
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			for _, w := range o.Webhooks {
				hooks++
				assert.Equal(t, int32(40443), *w.ClientConfig.Service.Port, w.Name)
				assert.Equal(t, certs.CACert, w.ClientConfig.CABundle, w.Name)
			}
		}
	}
	assert.Equal(t, 6, hooks, "three mutating, three validating entries")
}

func TestDecodeObjectsIsStrict(t *testing.T) {
	_, err := DecodeObjects([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  tpye: ClusterIP\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tpye")

	objs, err := DecodeObjects([]byte("# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n"))
	require.NoError(t, err)
	assert.Len(t, objs, 1)
}

// StartEnvtest needs both binaries' paths to wrap; without them it says so.
func TestStartEnvtestNeedsBinaryPaths(t *testing.T) {
	for _, te := range []*envtest.Environment{
		{},
		{ControlPlane: envtest.ControlPlane{Etcd: &envtest.Etcd{Path: "/bin/true"}}},
		{ControlPlane: envtest.ControlPlane{APIServer: &envtest.APIServer{Path: "/bin/true"}, Etcd: &envtest.Etcd{}}},
	} {
		_, err := StartEnvtest(te, t.TempDir())
		assert.ErrorContains(t, err, "ControlPlane.Etcd.Path and ControlPlane.APIServer.Path")
	}
}
