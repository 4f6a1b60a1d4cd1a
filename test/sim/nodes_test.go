package sim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/cluster"
)

// TestTheCacheFollowsTheNodes: the webhook's cache keeps what it computed of
// the nodes between requests, and MUST compute it again when a node changes:
// a zone relabelled, a node cordoned.
func TestTheCacheFollowsTheNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cluster.New(env.Config)
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Start(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	const zone = "topology.kubernetes.io/zone"
	domains := func() int { _, d := c.Nodes(ctx).Spread(zone); return d }
	require.Eventually(t, func() bool { return c.Nodes(ctx).Hosts() == len(env.Cluster.Nodes()) }, time.Minute, 50*time.Millisecond)
	before := domains()
	require.Equal(t, len(env.Cluster.Zones()), before)

	name := env.Cluster.Nodes()[0].Name
	patch := func(p string) {
		// Not ctx: the restore runs in a cleanup, after ctx has ended.
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
		require.NoError(t, env.Client.Patch(context.Background(), node, client.RawPatch(types.MergePatchType, []byte(p))))
	}
	var old corev1.Node
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: name}, &old))
	t.Cleanup(func() {
		patch(`{"metadata":{"labels":{"` + zone + `":"` + old.Labels[zone] + `"}},"spec":{"unschedulable":null}}`)
	})

	patch(`{"metadata":{"labels":{"` + zone + `":"sim-elsewhere"}}}`)
	assert.Eventually(t, func() bool { return domains() == before+1 }, 30*time.Second, 50*time.Millisecond, "a new zone")
	patch(`{"spec":{"unschedulable":true}}`)
	assert.Eventually(t, func() bool { return c.Nodes(ctx).Hosts() == len(env.Cluster.Nodes())-1 && domains() == before },
		30*time.Second, 50*time.Millisecond, "the cordoned node no longer counts")
}
