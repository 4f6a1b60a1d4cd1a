package devenv

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// ZonalProvisioner is the provisioner of the simulated cluster's storage
// classes, and the CSI driver its volumes name.
//
// KWOK provisions no storage a scheduler must respect: its volume stages fill in
// a PersistentVolume from the claim alone, and a template cannot look up the
// zone of the node the scheduler picked. This small provisioner, running in the
// devenv process, does what a cloud's CSI provisioner does with
// WaitForFirstConsumer: once kube-scheduler has written the selected node on a
// claim of one of these classes, it creates a volume in that node's zone (node
// affinity on topology.kubernetes.io/zone), pre-bound to the claim, and the
// PersistentVolume controller binds the two. A pod using the claim can then
// run only in that zone, as with gp3, premium-rwo or managed-csi-premium disks.
// On a node without a zone label the volume is pinned to the node's hostname,
// as node-local storage (local-path, a bare-metal disk) is. Released volumes
// are deleted (the classes' reclaim policy is Delete).
const ZonalProvisioner = "zonal-disk.devenv.ha.laminar.io"

// Annotations the scheduler and the PersistentVolume controller use.
const (
	annSelectedNode  = "volume.kubernetes.io/selected-node"
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

type zonalProvisioner struct {
	cs      kubernetes.Interface
	claims  corelisters.PersistentVolumeClaimLister
	volumes corelisters.PersistentVolumeLister
	nodes   corelisters.NodeLister
	classes storagelisters.StorageClassLister
	queue   workqueue.TypedRateLimitingInterface[string]
	logf    func(string, ...any)
}

// Queue keys: "claim/<namespace>/<name>" or "volume/<name>".
const (
	claimKey  = "claim/"
	volumeKey = "volume/"
)

// startZonalProvisioner runs the provisioner until the returned stop is called;
// stop waits for it to finish.
func startZonalProvisioner(cfg *rest.Config, logf func(string, ...any)) (stop func(), err error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	p := &zonalProvisioner{
		cs:      cs,
		claims:  f.Core().V1().PersistentVolumeClaims().Lister(),
		volumes: f.Core().V1().PersistentVolumes().Lister(),
		nodes:   f.Core().V1().Nodes().Lister(),
		classes: f.Storage().V1().StorageClasses().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "zonal-provisioner"}),
		logf: logf,
	}
	enqueue := func(prefix string) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				p.queue.Add(prefix + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
	}
	if _, err := f.Core().V1().PersistentVolumeClaims().Informer().AddEventHandler(enqueue(claimKey)); err != nil {
		return nil, err
	}
	if _, err := f.Core().V1().PersistentVolumes().Informer().AddEventHandler(enqueue(volumeKey)); err != nil {
		return nil, err
	}
	// Nodes and classes are only looked up; asking for their listers before
	// Start registers their informers.
	_ = f.Core().V1().Nodes().Informer()
	_ = f.Storage().V1().StorageClasses().Informer()

	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	var wg sync.WaitGroup
	wg.Go(func() {
		f.WaitForCacheSync(ctx.Done())
		for p.next(ctx) {
		}
	})
	return func() {
		cancel()
		p.queue.ShutDown()
		wg.Wait()
		f.Shutdown()
	}, nil
}

// next handles one queue item; false once the queue is shut down.
func (p *zonalProvisioner) next(ctx context.Context) bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	var err error
	switch {
	case strings.HasPrefix(key, claimKey):
		err = p.syncClaim(ctx, strings.TrimPrefix(key, claimKey))
	case strings.HasPrefix(key, volumeKey):
		err = p.syncVolume(ctx, strings.TrimPrefix(key, volumeKey))
	}
	if err != nil && ctx.Err() == nil {
		p.logf("devenv: zonal provisioner: %s: %v (retrying)", key, err)
		p.queue.AddRateLimited(key)
		return true
	}
	p.queue.Forget(key)
	return true
}

func (p *zonalProvisioner) syncClaim(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil //nolint:nilerr // a malformed key never becomes well-formed; drop it
	}
	claim, err := p.claims.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	nodeName := claim.Annotations[annSelectedNode]
	if claim.Spec.VolumeName != "" || nodeName == "" || claim.DeletionTimestamp != nil ||
		claim.Spec.StorageClassName == nil {
		return nil
	}
	class, err := p.classes.Get(*claim.Spec.StorageClassName)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if class.Provisioner != ZonalProvisioner {
		return nil
	}
	node, err := p.nodes.Get(nodeName)
	if err != nil {
		return fmt.Errorf("selected node %s: %w", nodeName, err)
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	pv := zonalVolume(claim, node, reclaim)
	_, err = p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	} else if err != nil {
		return err
	}
	p.logf("devenv: zonal provisioner: %s for %s/%s in %s", pv.Name, ns, name, describeAffinity(pv))
	return nil
}

// zonalVolume is the volume a cloud provisioner would make for claim on node:
// in its zone (its hostname when it has none), pre-bound to the claim.
func zonalVolume(claim *corev1.PersistentVolumeClaim, node *corev1.Node, reclaim corev1.PersistentVolumeReclaimPolicy) *corev1.PersistentVolume {
	key, value := corev1.LabelTopologyZone, node.Labels[corev1.LabelTopologyZone]
	labels := map[string]string{}
	if value == "" {
		key, value = corev1.LabelHostname, node.Labels[corev1.LabelHostname]
		if value == "" {
			value = node.Name
		}
	} else {
		// Cloud volumes carry their topology as labels too (kubectl get pv -L).
		labels[corev1.LabelTopologyZone] = value
		if r := node.Labels[corev1.LabelTopologyRegion]; r != "" {
			labels[corev1.LabelTopologyRegion] = r
		}
	}
	mode := corev1.PersistentVolumeFilesystem
	if claim.Spec.VolumeMode != nil {
		mode = *claim.Spec.VolumeMode
	}
	name := "pvc-" + string(claim.UID)
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{annProvisionedBy: ZonalProvisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   claim.Spec.AccessModes,
			VolumeMode:                    &mode,
			StorageClassName:              *claim.Spec.StorageClassName,
			PersistentVolumeReclaimPolicy: reclaim,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: ZonalProvisioner, VolumeHandle: name, FSType: "ext4",
			}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value},
				}}}},
			}},
		},
	}
}

// VolumeTopology is the one key and value a zonal volume's node affinity
// requires (zone, or hostname without zones); "" when it has no such affinity.
func VolumeTopology(pv *corev1.PersistentVolume) (key, value string) {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return "", ""
	}
	terms := pv.Spec.NodeAffinity.Required.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 {
		return "", ""
	}
	r := terms[0].MatchExpressions[0]
	if r.Operator != corev1.NodeSelectorOpIn || len(r.Values) != 1 {
		return "", ""
	}
	return r.Key, r.Values[0]
}

func describeAffinity(pv *corev1.PersistentVolume) string {
	k, v := VolumeTopology(pv)
	return k + "=" + v
}

// syncVolume deletes a released volume of ours whose policy says Delete, as
// the provisioner of a real class would (the PersistentVolume controller leaves
// that to the external provisioner).
func (p *zonalProvisioner) syncVolume(ctx context.Context, name string) error {
	pv, err := p.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if pv.Annotations[annProvisionedBy] != ZonalProvisioner || pv.DeletionTimestamp != nil ||
		pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	err = p.cs.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &pv.UID},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
