package helm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/laminar/ha-webhook/internal/devenv"
	"github.com/laminar/ha-webhook/internal/parentdeath"
)

const (
	servingSecret = "laminar-ha-webhook-serving"
	serviceHost   = appName + "." + namespace + ".svc"
)

// cluster is a real etcd and kube-apiserver with an admin kubeconfig.
type cluster struct {
	Config     *rest.Config
	Kubeconfig string
	Client     ctrlclient.Client
}

func startCluster(t *testing.T, r repo) *cluster {
	t.Helper()
	assets := devenv.AssetsDir(r.Root, "")
	require.NoError(t, devenv.CheckAssets(assets), "make controlplane")
	work := t.TempDir()
	useExisting := false
	te := &envtest.Environment{
		UseExistingCluster:    &useExisting,
		BinaryAssetsDirectory: assets,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(assets, "etcd")},
		},
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	te.ControlPlane.KubectlPath = r.Kubectl
	_, err := devenv.StartEnvtest(te, filepath.Join(work, "parentdeath"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, te.Stop()) })
	user, err := te.AddUser(envtest.User{Name: "helm-admin", Groups: []string{"system:masters"}}, &rest.Config{QPS: 1000, Burst: 2000})
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	c := &cluster{Config: user.Config(), Kubeconfig: filepath.Join(work, "kubeconfig")}
	require.NoError(t, os.WriteFile(c.Kubeconfig, kc, 0o600))
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = rest.NoWarnings{}
	c.Client, err = ctrlclient.New(cfg, ctrlclient.Options{})
	require.NoError(t, err)
	return c
}

func (c *cluster) kubectl(t *testing.T, r repo, args ...string) string {
	t.Helper()
	out, stderr, err := r.run(context.Background(), r.Kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	t.Logf("kubectl %s\n%s%s", strings.Join(args, " "), out, stderr)
	require.NoError(t, err, stderr)
	return out
}

// TestSelfManagedInstall installs the chart's certificates.mode=selfManaged
// rendering with kubectl into an API server with no cert-manager, runs the
// webhook with the rendered Deployment's arguments under its ServiceAccount,
// and follows issuance, injection, admission over verified TLS and a forced
// rotation. The steps build on each other.
func TestSelfManagedInstall(t *testing.T) {
	r := findRepo(t)
	c := startCluster(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	rendered, err := r.template(t, namespace, valueSets["self-managed"]...)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "rendered.yaml")
	require.NoError(t, os.WriteFile(path, []byte(rendered), 0o600))
	// The release namespace exists before helm install, with the kustomization's labels.
	c.kubectl(t, r, "apply", "-f", "deploy/manifests/namespace.yaml")
	out := c.kubectl(t, r, "apply", "--dry-run=server", "-f", path)
	assert.Contains(t, out, "secret/"+servingSecret+" created (server dry run)")
	out = c.kubectl(t, r, "apply", "-f", path)
	assert.Contains(t, out, "validatingwebhookconfiguration.admissionregistration.k8s.io/laminar-ha-webhook created")

	objs, err := decode(rendered)
	require.NoError(t, err)
	pod := startWebhook(t, ctx, r, c, find(t, objs, "Deployment", appName))

	// Issuance: the webhook filled its Secret and the pod got it.
	var secret corev1.Secret
	require.NoError(t, waitFor(ctx, "the Secret issued", func() (bool, string) {
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: servingSecret}, &secret); err != nil {
			return false, err.Error()
		}
		return len(secret.Data["tls.crt"]) > 0 && len(secret.Data["ca.crt"]) > 0, "empty"
	}))
	ca := secret.Data["ca.crt"]
	leaf := parseCert(t, secret.Data["tls.crt"])
	assert.ElementsMatch(t, []string{serviceHost, serviceHost + ".cluster.local"}, leaf.DNSNames)
	verify(t, leaf, ca)

	// Injection: every caBundle of both configurations is the CA.
	require.NoError(t, waitFor(ctx, "CA injected", func() (bool, string) {
		b, err := caBundles(ctx, c)
		if err != nil {
			return false, err.Error()
		}
		for name, v := range b {
			if !bytes.Equal(v, ca) {
				return false, name + " not injected"
			}
		}
		return len(b) > 0, "no webhooks"
	}))
	require.NoError(t, pod.waitReady(ctx), "readiness waits for issuance, mount and injection")

	// Admission through TLS the API server verifies against the injected CA.
	localize(t, ctx, c, pod.webhookPort)
	require.NoError(t, waitFor(ctx, "admission through the webhook", func() (bool, string) {
		if err := devenv.CheckAdmission(ctx, c.Client, "helm-probe", true); err != nil {
			return false, err.Error()
		}
		if err := devenv.CheckAdmission(ctx, c.Client, "helm-probe", false); err != nil {
			return false, err.Error()
		}
		return true, ""
	}))

	// A serving certificate near its end is replaced at once by one from the
	// same CA; the caBundles stay as they are and no admission fails meanwhile.
	before, err := caBundles(ctx, c)
	require.NoError(t, err)
	load := devenv.StartAdmissionLoad(c.Client, "helm-probe", 2, 0)
	require.NoError(t, waitMore(ctx, load, 10))
	forceNearExpiry(t, ctx, c, &secret)
	var renewed *x509.Certificate
	require.NoError(t, waitFor(ctx, "a new long-lived serving certificate", func() (bool, string) {
		var s corev1.Secret
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: servingSecret}, &s); err != nil {
			return false, err.Error()
		}
		got, err := certutil.ParseCertsPEM(s.Data["tls.crt"])
		if err != nil {
			return false, err.Error()
		}
		renewed = got[0]
		return time.Until(renewed.NotAfter) > 300*24*time.Hour, "not yet"
	}))
	require.NoError(t, waitFor(ctx, "the webhook serves it", func() (bool, string) {
		served, err := devenv.ServedCert(ctx, pod.webhookPort, ca, serviceHost)
		if err != nil {
			return false, err.Error()
		}
		return served.SerialNumber.Cmp(renewed.SerialNumber) == 0, "still the old one"
	}))
	require.NoError(t, waitMore(ctx, load, 20))
	ok, failed := load.Stop()
	t.Logf("admissions during the rotation: %d right, %d wrong", ok, len(failed))
	assert.Empty(t, failed)
	after, err := caBundles(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a serving certificate rotation leaves every caBundle as it was")
	assert.Contains(t, pod.log(), "server certs refreshed")
}

// waitFor polls cond every 50 ms until it holds or ctx (bounded) ends.
func waitFor(ctx context.Context, what string, cond func() (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not in time (last: %s)", what, why)
		case <-tick.C:
		}
	}
}

// localPod is the rendered Deployment's container run here, with the Secret
// volume kept in a local directory as a kubelet keeps it.
type localPod struct {
	webhookPort, healthPort int
	logPath                 string
	cmd                     *exec.Cmd
}

func (p *localPod) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func startWebhook(t *testing.T, ctx context.Context, r repo, c *cluster, dep *unstructured.Unstructured) *localPod {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "laminar-ha-webhook")
	_, stderr, err := r.run(ctx, "go", "build", "-o", bin, "./cmd/webhook")
	require.NoError(t, err, stderr)

	var d appsv1.Deployment
	require.NoError(t, fromUnstructured(dep, &d))
	spec := d.Spec.Template.Spec
	require.Len(t, spec.Containers, 1)
	certDir, policyDir := filepath.Join(dir, "tls"), filepath.Join(dir, "policy")
	require.NoError(t, os.MkdirAll(certDir, 0o700))
	require.NoError(t, os.MkdirAll(policyDir, 0o700))
	var cm corev1.ConfigMap
	require.NoError(t, c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "laminar-ha-webhook-policy"}, &cm))
	require.NoError(t, os.WriteFile(filepath.Join(policyDir, "policy.yaml"), []byte(cm.Data["policy.yaml"]), 0o600))
	kctx, stopKubelet := context.WithCancel(context.Background())
	t.Cleanup(stopKubelet)
	go projectSecret(kctx, c.Client, certDir)

	ports, err := devenv.FreePorts(2)
	require.NoError(t, err)
	p := &localPod{webhookPort: ports[0], healthPort: ports[1], logPath: filepath.Join(dir, "webhook.log")}
	var args []string
	for _, a := range spec.Containers[0].Args {
		switch {
		case strings.HasPrefix(a, "--port="):
			a = "--port=" + strconv.Itoa(p.webhookPort)
		case strings.HasPrefix(a, "--health-addr="):
			a = "--health-addr=127.0.0.1:" + strconv.Itoa(p.healthPort)
		case strings.HasPrefix(a, "--metrics-addr="), strings.HasPrefix(a, "--metrics-secure="):
			continue
		case strings.HasPrefix(a, "--cert-dir="):
			a = "--cert-dir=" + certDir
		case strings.HasPrefix(a, "--policy="):
			a = "--policy=" + filepath.Join(policyDir, "policy.yaml")
		case strings.HasPrefix(a, "--log-format="):
			a = "--log-format=text"
		}
		args = append(args, a)
	}
	args = append(args, "--metrics-addr=0", "--kubeconfig="+serviceAccountKubeconfig(t, ctx, c, spec.ServiceAccountName, filepath.Join(dir, "sa-kubeconfig")))
	logf, err := os.Create(p.logPath)
	require.NoError(t, err)
	defer func() { _ = logf.Close() }()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	require.NoError(t, parentdeath.Start(p.cmd))
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("webhook log:\n%s", p.log())
		}
	})
	t.Logf("webhook: %s", strings.Join(args, " "))
	return p
}

func (p *localPod) waitReady(ctx context.Context) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", p.healthPort)
	hc := &http.Client{Timeout: time.Second}
	return waitFor(ctx, "/readyz", func() (bool, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// projectSecret writes the Secret's tls.crt and tls.key into dir whenever they
// change, each file replaced by a rename as the kubelet's atomic writer does.
func projectSecret(ctx context.Context, c ctrlclient.Client, dir string) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := map[string][]byte{}
	for {
		var s corev1.Secret
		if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: servingSecret}, &s); err == nil {
			for _, k := range []string{"tls.key", "tls.crt"} {
				if v := s.Data[k]; len(v) > 0 && !bytes.Equal(v, last[k]) {
					tmp := filepath.Join(dir, "."+k)
					if os.WriteFile(tmp, v, 0o600) == nil && os.Rename(tmp, filepath.Join(dir, k)) == nil {
						last[k] = v
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func serviceAccountKubeconfig(t *testing.T, ctx context.Context, c *cluster, sa, path string) string {
	t.Helper()
	require.NotEmpty(t, sa)
	token, err := devenv.ServiceAccountToken(ctx, c.Client, namespace, sa)
	require.NoError(t, err)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "sa", Namespace: namespace}
	cfg.CurrentContext = "sa"
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func caBundles(ctx context.Context, c *cluster) (map[string][]byte, error) {
	out := map[string][]byte{}
	var m admissionregistrationv1.MutatingWebhookConfiguration
	if err := c.Client.Get(ctx, types.NamespacedName{Name: appName}, &m); err != nil {
		return nil, err
	}
	for _, w := range m.Webhooks {
		out["mutating/"+w.Name] = w.ClientConfig.CABundle
	}
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Client.Get(ctx, types.NamespacedName{Name: appName}, &v); err != nil {
		return nil, err
	}
	for _, w := range v.Webhooks {
		out["validating/"+w.Name] = w.ClientConfig.CABundle
	}
	return out, nil
}

// localize points the Service (as an ExternalName for localhost) and every
// webhook's port at the local process. The API server still dials the
// Service's name and verifies the certificate for it against the caBundle.
func localize(t *testing.T, ctx context.Context, c *cluster, port int) {
	t.Helper()
	var svc corev1.Service
	require.NoError(t, c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: appName}, &svc))
	svc.Spec = corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
		Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}},
	}
	require.NoError(t, c.Client.Update(ctx, &svc))
	b, err := caBundles(ctx, c)
	require.NoError(t, err)
	for _, obj := range []ctrlclient.Object{&admissionregistrationv1.MutatingWebhookConfiguration{}, &admissionregistrationv1.ValidatingWebhookConfiguration{}} {
		prefix := "mutating/"
		if _, ok := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration); ok {
			prefix = "validating/"
		}
		n := 0
		for k := range b {
			if strings.HasPrefix(k, prefix) {
				n++
			}
		}
		obj.SetName(appName)
		// Only the ports: the injected caBundles stay untouched.
		var ops []map[string]any
		for i := range n {
			ops = append(ops, map[string]any{"op": "replace", "path": fmt.Sprintf("/webhooks/%d/clientConfig/service/port", i), "value": port})
		}
		patch, err := json.Marshal(ops)
		require.NoError(t, err)
		require.NoError(t, c.Client.Patch(ctx, obj, ctrlclient.RawPatch(types.JSONPatchType, patch)))
	}
}

// forceNearExpiry replaces the serving certificate in the Secret with one from
// the same CA that ends in an hour, inside any renewBefore: what the Secret
// would hold a year from now, without waiting for it.
func forceNearExpiry(t *testing.T, ctx context.Context, c *cluster, s *corev1.Secret) {
	t.Helper()
	caCert := parseCert(t, s.Data["ca.crt"])
	block, _ := pem.Decode(s.Data["ca.key"])
	require.NotNil(t, block, "ca.key")
	caKey, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: serviceHost},
		DNSNames:     []string{serviceHost, serviceHost + ".cluster.local"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	var fresh corev1.Secret
	require.NoError(t, c.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: servingSecret}, &fresh))
	fresh.Data["tls.crt"] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	fresh.Data["tls.key"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	require.NoError(t, c.Client.Update(ctx, &fresh))
}

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	cs, err := certutil.ParseCertsPEM(data)
	require.NoError(t, err)
	return cs[0]
}

func verify(t *testing.T, leaf *x509.Certificate, roots []byte) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(roots))
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: serviceHost, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	require.NoError(t, err)
}

// waitMore waits until n more admissions of l were answered right.
func waitMore(ctx context.Context, l *devenv.AdmissionLoad, n int) error {
	base, _ := l.Counts()
	return waitFor(ctx, fmt.Sprintf("%d more admissions", n), func() (bool, string) {
		ok, _ := l.Counts()
		return ok >= base+n, strconv.Itoa(ok - base)
	})
}
