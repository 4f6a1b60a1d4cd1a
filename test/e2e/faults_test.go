package e2e

// Faults between the API server and the webhook: a webhook that hangs past
// timeoutSeconds, the webhook restarting under a steady stream of creates, and
// a caBundle that does not match the serving certificate.
//
// Tests in this file are NOT parallel (see serial_test.go): one stops the
// webhook, and the others register extra webhook configurations. Those select
// only a test-only label in the test's own namespace, and t.Cleanup deletes them.

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/internal/devenv"
)

// faultLabel marks the objects the test-only webhook configurations select.
const faultLabel = "faults.ha.laminar.io/case"

// hangingServer accepts TLS connections and reads requests but never answers
// until the test ends.
func hangingServer(t *testing.T) (url string, caBundle []byte) {
	t.Helper()
	certs, err := devenv.NewCerts("localhost")
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certs.Cert, certs.Key)
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	release := make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		close(release)
		_ = srv.Close()
	})
	return fmt.Sprintf("https://%s/hang", ln.Addr().String()), certs.CACert
}

// manifestWebhooks returns copies of the first mutating and the first
// validating entry of deploy/manifests, with their failurePolicy as shipped.
func manifestWebhooks(t *testing.T) (admissionregistrationv1.MutatingWebhook, admissionregistrationv1.ValidatingWebhook) {
	t.Helper()
	objs, err := devenv.LoadManifests(env.RepoRoot)
	require.NoError(t, err)
	var mut *admissionregistrationv1.MutatingWebhook
	var val *admissionregistrationv1.ValidatingWebhook
	for _, o := range objs {
		switch o := o.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			if mut == nil && len(o.Webhooks) > 0 {
				mut = o.Webhooks[0].DeepCopy()
			}
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			if val == nil && len(o.Webhooks) > 0 {
				val = o.Webhooks[0].DeepCopy()
			}
		}
	}
	require.NotNil(t, mut, "no mutating webhook in deploy/manifests")
	require.NotNil(t, val, "no validating webhook in deploy/manifests")
	// The copies judge plain Deployments, scoped by the fault label instead:
	// the shipped matchConditions would let only Laminar workloads through.
	require.NotEmpty(t, mut.MatchConditions, "the shipped entries select by matchConditions")
	mut.MatchConditions, val.MatchConditions = nil, nil
	return *mut, *val
}

// scope limits a test-only webhook to objects labelled faultLabel=value in ns.
func scope(ns, value string) (*metav1.LabelSelector, *metav1.LabelSelector) {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		&metav1.LabelSelector{MatchLabels: map[string]string{faultLabel: value}}
}

func register(t *testing.T, obj client.Object) {
	t.Helper()
	require.NoError(t, env.Client.Create(testContext(t), obj))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := env.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete %T %s: %v", obj, obj.GetName(), err)
		}
	})
}

// plainDeployment is a non-Laminar Deployment (our own webhooks never see it)
// carrying faultLabel=value.
func plainDeployment(t *testing.T, ns, value string) *appsv1.Deployment {
	t.Helper()
	d := loadDeployment(t, testdata("unlabelled.yaml"), ns)
	d.Name = "fault-" + rand.String(6)
	d.Labels[faultLabel] = value
	return d
}

// TestWebhookHangsPastTimeout points copies of the shipped mutating and
// validating entries — same failurePolicy, timeoutSeconds 1 to keep the suite
// fast — at a server that never answers. The validating call fails closed with
// the API server's timeout message; the mutating one fails open.
func TestWebhookHangsPastTimeout(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, nil)
	url, ca := hangingServer(t)
	mut, val := manifestWebhooks(t)
	require.Equal(t, admissionregistrationv1.Ignore, *mut.FailurePolicy, "shipped mutating failurePolicy")
	require.Equal(t, admissionregistrationv1.Fail, *val.FailurePolicy, "shipped validating failurePolicy")
	timeout := int32(1)

	mut.Name = "hang-mutate.faults.ha.laminar.io"
	mut.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca}
	mut.TimeoutSeconds = &timeout
	mut.NamespaceSelector, mut.ObjectSelector = scope(ns, "hang-mutate")
	register(t, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-faults-hang-" + ns}, Webhooks: []admissionregistrationv1.MutatingWebhook{mut}})
	val.Name = "hang-validate.faults.ha.laminar.io"
	val.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca}
	val.TimeoutSeconds = &timeout
	val.NamespaceSelector, val.ObjectSelector = scope(ns, "hang-validate")
	register(t, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-faults-hang-" + ns}, Webhooks: []admissionregistrationv1.ValidatingWebhook{val}})

	// Validating: fails closed, once the API server has the configuration.
	var err error
	var refusedAfter, admittedAfter time.Duration
	require.Eventually(t, func() bool {
		start := time.Now()
		err = env.Client.Create(ctx, plainDeployment(t, ns, "hang-validate"), client.DryRunAll)
		refusedAfter = time.Since(start)
		return err != nil
	}, 20*time.Second, 100*time.Millisecond, "the hanging validating webhook never took effect")
	assert.True(t, apierrors.IsInternalError(err) || apierrors.IsTimeout(err), "want an internal/timeout error, got %v", err)
	assert.Contains(t, err.Error(), `failed calling webhook "hang-validate.faults.ha.laminar.io"`)
	assert.Regexp(t, `context deadline exceeded|Client.Timeout|timeout`, err.Error())
	assert.GreaterOrEqual(t, refusedAfter, time.Second, "the API server waited timeoutSeconds")
	t.Logf("validating webhook hung: refused after %s: %v", refusedAfter.Round(time.Millisecond), err)

	// Mutating: fails open; the object is stored as written. The first create
	// may come before the API server has the mutating configuration, so repeat
	// until one demonstrably waited for it.
	var d *appsv1.Deployment
	require.Eventually(t, func() bool {
		d = plainDeployment(t, ns, "hang-mutate")
		start := time.Now()
		require.NoError(t, env.Client.Create(ctx, d), "a hanging mutating webhook must not block")
		admittedAfter = time.Since(start)
		return admittedAfter >= time.Second
	}, 20*time.Second, 100*time.Millisecond, "the hanging mutating webhook never took effect")
	got := &appsv1.Deployment{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(d), got))
	assert.Equal(t, "hang-mutate", got.Labels[faultLabel])
	t.Logf("figures: webhook hang (timeoutSeconds %d): validating refused after %s (fails closed), mutating admitted after %s (fails open)",
		timeout, refusedAfter.Round(time.Millisecond), admittedAfter.Round(time.Millisecond))
}

// TestWrongCABundle registers a copy of the shipped validating entry that calls
// the real webhook but trusts another CA: the API server reports the x509
// error, the request fails closed, and the webhook logs the refused handshake.
func TestWrongCABundle(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, nil)
	other, err := devenv.NewCerts(devenv.ServiceHost)
	require.NoError(t, err)
	_, val := manifestWebhooks(t)
	val.Name = "wrong-ca.faults.ha.laminar.io"
	port := int32(env.WebhookPort)
	val.ClientConfig.Service.Port = &port
	val.ClientConfig.CABundle = other.CACert
	val.NamespaceSelector, val.ObjectSelector = scope(ns, "wrong-ca")
	register(t, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "laminar-faults-wrong-ca-" + ns}, Webhooks: []admissionregistrationv1.ValidatingWebhook{val}})

	require.Eventually(t, func() bool {
		err = env.Client.Create(ctx, plainDeployment(t, ns, "wrong-ca"), client.DryRunAll)
		return err != nil
	}, 20*time.Second, 100*time.Millisecond, "the wrong-CA webhook never took effect")
	assert.True(t, apierrors.IsInternalError(err), "want InternalError, got %v", err)
	assert.Contains(t, err.Error(), `failed calling webhook "wrong-ca.faults.ha.laminar.io"`)
	assert.Contains(t, err.Error(), "x509: certificate signed by unknown authority")
	if log := env.WebhookLog(); log != "" {
		assert.Eventually(t, func() bool { return strings.Contains(env.WebhookLog(), "remote error: tls: bad certificate") },
			5*time.Second, 50*time.Millisecond, "the webhook does not log the refused handshake")
	}
	t.Logf("wrong caBundle: %v", err)
}

// TestWebhookRestartUnderLoad creates Laminar Deployments at a steady rate while
// the webhook is stopped (SIGTERM) and started again. While it is down the
// validating webhook fails closed: those creates are refused with the API
// server's "failed calling webhook" error, and nothing is admitted unjudged.
// Once it is back, every create succeeds, with the HA defaults filled in.
// devenv runs the webhook with --shutdown-delay=0 (the default), so a create in
// flight at the instant of SIGTERM may fail too; those are counted apart. While
// it comes back, a create whose mutating call still failed (open) but whose
// validating call reached it is refused as written: judged, and counted apart.
func TestWebhookRestartUnderLoad(t *testing.T) {
	const rate = 20 // creates per second
	ctx := testContext(t)
	c, _ := newClient(t)
	ns := newNamespace(t, nil)
	template := loadDeployment(t, example("api-good.yaml"), ns)

	type result struct {
		at    time.Time
		name  string
		err   error
		phase string
	}
	var (
		mu      sync.Mutex
		results []result
		phase   = "before"
	)
	setPhase := func(p string) { mu.Lock(); phase = p; mu.Unlock() }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		var inflight sync.WaitGroup
		defer inflight.Wait()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			p := phase
			mu.Unlock()
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				d := template.DeepCopy()
				d.Name = fmt.Sprintf("restart-%03d", i)
				err := c.Create(ctx, d)
				mu.Lock()
				if phase != p { // sent in one phase, answered in another
					p = "transition"
				}
				results = append(results, result{at: time.Now(), name: d.Name, err: err, phase: p})
				mu.Unlock()
			}()
		}
	}()

	restarted := false
	t.Cleanup(func() {
		if !restarted { // leave a working webhook for the other tests
			if err := env.StartWebhook(context.Background()); err != nil {
				t.Errorf("restart webhook: %v", err)
			}
		}
	})
	time.Sleep(time.Second)
	setPhase("stopping")
	stopStart := time.Now()
	require.NoError(t, env.StopWebhook(), "the webhook exits 0 on SIGTERM")
	stopTook := time.Since(stopStart)
	setPhase("down")
	time.Sleep(time.Second)
	setPhase("starting")
	startAt := time.Now()
	restarted = true
	require.NoError(t, env.StartWebhook(ctx), "restart and wait for the admission marker")
	backAfter := time.Since(startAt)
	setPhase("after")
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	counts := map[string][2]int{} // phase -> ok, failed
	var created []string
	unmutated := 0
	for _, r := range results {
		n := counts[r.phase]
		switch {
		case r.err == nil:
			n[0]++
			created = append(created, r.name)
		case r.phase != "before" && r.phase != "after" && apierrors.IsInvalid(r.err) &&
			strings.Contains(r.err.Error(), `admission webhook "validate.ha.laminar.io" denied the request`):
			// The webhook came back between the API server's two calls: the
			// mutating one failed open, the validating one judged the object as
			// written and refused it. Judged, so not admitted unjudged.
			n[1]++
			unmutated++
		default:
			n[1]++
			assert.True(t, apierrors.IsInternalError(r.err), "%s (%s): want the fail-closed InternalError, got %v", r.name, r.phase, r.err)
			assert.Contains(t, r.err.Error(), "failed calling webhook", "%s (%s)", r.name, r.phase)
		}
		counts[r.phase] = n
	}
	for _, p := range []string{"before", "after"} {
		assert.Zero(t, counts[p][1], "creates sent and answered while the webhook was up (%s) failed", p)
		assert.NotZero(t, counts[p][0], "no creates %s the restart", p)
	}
	assert.NotZero(t, counts["down"][1], "no create was refused while the webhook was down")
	assert.Zero(t, counts["down"][0], "a Laminar workload was admitted while the webhook was down")

	// Everything admitted was judged and mutated.
	for _, name := range created {
		got := &appsv1.Deployment{}
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got))
		require.NotNil(t, got.Spec.Template.Spec.Containers[0].StartupProbe, "%s was admitted without the HA defaults", name)
	}
	t.Logf("figures: webhook restart under %d creates/s: SIGTERM to exit %s, back (admission marker) %s after start; "+
		"ok/failed before %v, stopping %v, down %v, starting %v, after %v, across a phase change %v; "+
		"failures: fail-closed InternalErrors, and %d denials of objects the mutating call missed while the webhook came back; %d created objects all mutated",
		rate, stopTook.Round(time.Millisecond), backAfter.Round(time.Millisecond),
		counts["before"], counts["stopping"], counts["down"], counts["starting"], counts["after"], counts["transition"], unmutated, len(created))
}
