package devenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CheckAdmission makes one server-side dry-run create of a Laminar api
// Deployment named name in namespace default: compliant, it must come back
// with the HA defaults (the mutating webhook was reached); with one replica,
// it must be denied by replicas-min (the validating webhook was reached).
// The install suites use it to prove admission through an installed webhook.
func CheckAdmission(ctx context.Context, c client.Client, name string, compliant bool) error {
	replicas := int32(3)
	if !compliant {
		replicas = 1
	}
	labels := map[string]string{"app": "laminar-api"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "ghcr.io/laminar/laminar:" + name}}},
			},
		},
	}
	err := c.Create(ctx, d, client.DryRunAll)
	switch {
	case compliant && err != nil:
		return fmt.Errorf("compliant Deployment refused: %w", err)
	case compliant && d.Spec.Template.Spec.Containers[0].StartupProbe == nil:
		return fmt.Errorf("compliant Deployment admitted without HA defaults: the mutating webhook was not reached")
	case !compliant && !DeniedByRule(err, "replicas-min"):
		return fmt.Errorf("one-replica Deployment: want a [replicas-min] denial, got %v", err)
	}
	return nil
}

// AdmissionLoad is a steady stream of CheckAdmission calls, half compliant
// and half denied, each checked for the right answer: what a certificate
// rotation must not disturb.
type AdmissionLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	ok     int
	failed []string
}

// StartAdmissionLoad runs workers streams through c, each pausing pause
// between requests (0: none), until Stop.
func StartAdmissionLoad(c client.Client, name string, workers int, pause time.Duration) *AdmissionLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &AdmissionLoad{cancel: cancel}
	for w := range workers {
		l.wg.Go(func() {
			for i := w; ctx.Err() == nil; i++ {
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				err := CheckAdmission(rctx, c, name, i%2 == 0)
				rcancel()
				if ctx.Err() != nil {
					return
				}
				l.mu.Lock()
				if err != nil {
					l.failed = append(l.failed, time.Now().Format("15:04:05.000")+" "+err.Error())
				} else {
					l.ok++
				}
				l.mu.Unlock()
				if pause > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(pause):
					}
				}
			}
		})
	}
	return l
}

// Counts are the right answers so far and the wrong ones.
func (l *AdmissionLoad) Counts() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, slices.Clone(l.failed)
}

// Stop ends the streams and returns the final Counts.
func (l *AdmissionLoad) Stop() (int, []string) {
	l.cancel()
	l.wg.Wait()
	return l.Counts()
}

// ServedCert is the leaf a webhook listening on 127.0.0.1:port presents,
// verified against roots for serverName, as the API server verifies it.
func ServedCert(ctx context.Context, port int, roots []byte, serverName string) (*x509.Certificate, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(roots) {
		return nil, errors.New("no roots")
	}
	d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}
