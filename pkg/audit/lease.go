package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseName is the Lease the audit's writer holds, in the webhook's namespace.
const LeaseName = "laminar-ha-webhook-audit"

// Lease timings: the guide's own leader-election figures.
const (
	leaseDuration = 15 * time.Second
	renewDeadline = 10 * time.Second
	retryPeriod   = 2 * time.Second
)

// RunLeased runs lead while this replica holds the audit Lease, campaigning
// again whenever it is lost, until ctx ends: only one replica writes reports,
// while every replica keeps serving admission. The Lease is released on a
// clean stop so that another replica takes over at once.
func RunLeased(ctx context.Context, cfg *rest.Config, namespace, identity string, log logr.Logger, lead func(context.Context)) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("audit lease: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1ObjectMeta(namespace),
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   leaseDuration,
			RenewDeadline:   renewDeadline,
			RetryPeriod:     retryPeriod,
			ReleaseOnCancel: true,
			Name:            LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					log.Info("audit lease acquired: this replica writes the reports", "identity", identity)
					lead(ctx)
				},
				OnStoppedLeading: func() { log.Info("audit lease released", "identity", identity) },
			},
		})
		if err != nil {
			return fmt.Errorf("audit lease: %w", err)
		}
		le.Run(ctx)
	}
	return nil
}

func metav1ObjectMeta(namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: LeaseName}
}
