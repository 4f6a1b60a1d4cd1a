package scenarios

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// readyWatch follows every Laminar pod through a watch and keeps, per
// namespace and app, how many are Ready. It counts from the event objects
// themselves, in the order the watch delivers them, so a dip lasting a single
// update is seen; a poll would miss it.
type readyWatch struct {
	mu      sync.Mutex
	pods    map[string]podState // by namespace/name
	windows []*window
	stop    func()
}

type podState struct {
	group string // namespace/app
	ready bool
}

// serving says whether a pod takes traffic: Ready and not on its way out
// (the endpoints controller drops a terminating pod from the ready addresses).
func serving(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func startReadyWatch(ctx context.Context, cs kubernetes.Interface) (*readyWatch, error) {
	w := &readyWatch{pods: map[string]podState{}}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = "app in (laminar-api,laminar-controller)"
	}))
	inf := f.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.observe(obj, false) },
		UpdateFunc: func(_, obj any) { w.observe(obj, false) },
		DeleteFunc: func(obj any) { w.observe(obj, true) },
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	w.stop = func() { cancel(); f.Shutdown() }
	return w, nil
}

func (w *readyWatch) observe(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key := p.Namespace + "/" + p.Name
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if deleted {
		delete(w.pods, key)
	} else {
		w.pods[key] = podState{group: p.Namespace + "/" + p.Labels["app"], ready: serving(p)}
	}
	group := p.Namespace + "/" + p.Labels["app"]
	n := w.countLocked(group)
	for _, win := range w.windows {
		win.update(group, n, now)
	}
}

func (w *readyWatch) countLocked(group string) int {
	n := 0
	for _, s := range w.pods {
		if s.group == group && s.ready {
			n++
		}
	}
	return n
}

// window records, from open to close, each group's fewest Ready pods and when
// it last came back to full strength.
type window struct {
	full      map[string]int // replicas per group
	min       map[string]int
	below     map[string]bool
	recovered map[string]time.Time
	closed    bool
}

// open starts a window over the groups (namespace/app) with their replicas.
func (w *readyWatch) open(full map[string]int) *window {
	w.mu.Lock()
	defer w.mu.Unlock()
	win := &window{full: full, min: map[string]int{}, below: map[string]bool{}, recovered: map[string]time.Time{}}
	now := time.Now()
	for g := range full {
		win.min[g] = w.countLocked(g)
		win.update(g, win.min[g], now)
	}
	w.windows = append(w.windows, win)
	return win
}

func (win *window) update(group string, n int, now time.Time) {
	full, ok := win.full[group]
	if !ok || win.closed {
		return
	}
	win.min[group] = min(win.min[group], n)
	switch {
	case n < full:
		win.below[group] = true
		delete(win.recovered, group)
	case win.below[group] && win.recovered[group].IsZero():
		win.recovered[group] = now
	}
}

// result is a group's minimum and, when it dipped and came back, the time it
// came back (zero otherwise).
type result struct {
	Min       int
	Dipped    bool
	Recovered time.Time
}

// close ends the window and returns its results by group.
func (w *readyWatch) close(win *window) map[string]result {
	w.mu.Lock()
	defer w.mu.Unlock()
	win.closed = true
	out := map[string]result{}
	for g := range win.full {
		out[g] = result{Min: win.min[g], Dipped: win.below[g], Recovered: win.recovered[g]}
	}
	for i, x := range w.windows {
		if x == win {
			w.windows = append(w.windows[:i], w.windows[i+1:]...)
			break
		}
	}
	return out
}
