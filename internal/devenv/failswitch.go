package devenv

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// FailAnnotation lets a person fail a simulated node with kubectl, where tests
// call Cluster.FailNode: setting it to "true" on a Node fails the node,
// removing it restores the node.
//
//	kubectl annotate node node-a1 devenv.ha.laminar.io/fail=true
//	kubectl annotate node node-a1 devenv.ha.laminar.io/fail-
//
// Only a change of the annotation acts, so a node failed or restored through
// the Go API is never undone by the annotation it lacks.
const FailAnnotation = "devenv.ha.laminar.io/fail"

// startFailSwitch watches Nodes for changes of FailAnnotation until the
// returned stop is called.
func startFailSwitch(cfg *rest.Config, c *Cluster) (stop func(), err error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	_, err = f.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			before, ok1 := oldObj.(*corev1.Node)
			after, ok2 := newObj.(*corev1.Node)
			if !ok1 || !ok2 {
				return
			}
			was, is := before.Annotations[FailAnnotation] == "true", after.Annotations[FailAnnotation] == "true"
			switch {
			case is && !was:
				c.env.logf("devenv: %s: failing node %s", FailAnnotation, after.Name)
				if err := c.FailNode(after.Name); err != nil {
					c.env.logf("devenv: fail node %s: %v", after.Name, err)
				}
			case was && !is:
				c.env.logf("devenv: %s removed: restoring node %s", FailAnnotation, after.Name)
				if err := c.RestoreNode(after.Name); err != nil {
					c.env.logf("devenv: restore node %s: %v", after.Name, err)
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	return func() {
		cancel()
		f.Shutdown()
	}, nil
}
