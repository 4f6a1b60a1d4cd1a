package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/metrics"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// Defaults of Config.
const (
	DefaultResync   = 10 * time.Minute
	DefaultWriteQPS = 20
	// policyPoll is how often a policy reload is looked for: a reload re-judges everything.
	policyPoll = time.Second
)

// Config is what the Auditor reads and writes through.
type Config struct {
	// Cache is the webhook's cluster cache: the workloads, budgets,
	// autoscalers, namespaces and nodes judged, and the reports written.
	Cache *cluster.Cache
	// Writer writes the reports and reads the workloads whole (a direct
	// client: the cache keeps only what admission reads, no probes or volumes).
	Writer client.Client
	Policy admit.PolicySource
	Clock  admit.Clock
	// Resync is the period of full passes besides the one at start and on policy reload.
	Resync time.Duration
	// WriteQPS bounds report writes per second (burst twice as many).
	WriteQPS float64
	// Reports off keeps the audit to its gauges (no OpenReports CRD installed).
	Reports bool
	Log     logr.Logger
}

// key names a workload.
type key struct{ kind, namespace, name string }

// fullPass is the queue item that re-judges every workload; stop ends a
// RunLeading whose context has ended.
var (
	fullPass = key{kind: "*"}
	stop     = key{kind: "-"}
)

// gaugeKey is one series of metrics.AuditViolations.
type gaugeKey struct{ namespace, rule, action string }

// Auditor judges the stored Laminar workloads in the background, on every
// change the cache sees, on policy reload and every Resync, writing one Report
// per workload. Run it only while holding the audit lease (RunLeading).
type Auditor struct {
	c       Config
	queue   workqueue.TypedRateLimitingInterface[key]
	limiter flowcontrol.RateLimiter
	// counted is each workload's contribution to the gauges, so that a
	// workload judged again replaces its own counts and no others.
	counted map[key]map[gaugeKey]int
	totals  map[gaugeKey]int
}

// New builds an Auditor over c; Register then RunLeading start it.
func New(c Config) *Auditor {
	if c.Resync <= 0 {
		c.Resync = DefaultResync
	}
	if c.WriteQPS <= 0 {
		c.WriteQPS = DefaultWriteQPS
	}
	return &Auditor{
		c:       c,
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[key]()),
		limiter: flowcontrol.NewTokenBucketRateLimiter(float32(c.WriteQPS), int(2*c.WriteQPS)),
		counted: map[key]map[gaugeKey]int{},
		totals:  map[gaugeKey]int{},
	}
}

// Register subscribes to the cache's events and, when reports are on,
// watches the reports; it reports whether reports can be written (the
// OpenReports CRD is served). Call it before the cache has started.
func (a *Auditor) Register(ctx context.Context) (reports bool, err error) {
	if err := a.c.Cache.OnChange(ctx, a.changed); err != nil {
		return false, err
	}
	if a.c.Reports {
		if err := a.c.Cache.Watch(ctx, reportMeta()); err != nil {
			a.c.Log.Error(err, "OpenReports Reports are not served (is the CRD installed?): the audit keeps its gauges only")
			a.c.Reports = false
		}
	}
	return a.c.Reports, nil
}

// changed enqueues the workloads an event may have changed the verdict of.
func (a *Auditor) changed(old, obj client.Object) {
	for _, o := range []client.Object{old, obj} {
		switch o := o.(type) {
		case *appsv1.Deployment:
			a.queue.Add(key{workload.KindDeployment, o.Namespace, o.Name})
		case *appsv1.StatefulSet:
			a.queue.Add(key{workload.KindStatefulSet, o.Namespace, o.Name})
		case *autoscalingv2.HorizontalPodAutoscaler:
			a.queue.Add(key{o.Spec.ScaleTargetRef.Kind, o.Namespace, o.Spec.ScaleTargetRef.Name})
		case *policyv1.PodDisruptionBudget:
			if o.Spec.Selector == nil {
				continue
			}
			if sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector); err == nil {
				a.enqueueSelected(o.Namespace, sel)
			}
		case *metav1.PartialObjectMetadata: // a Namespace: its switches may have changed
			if old != nil && obj != nil && !labelsChanged(old, obj) {
				return
			}
			a.enqueueSelected(o.Name, labels.Everything())
		}
	}
}

func labelsChanged(old, obj client.Object) bool {
	return !apiequality.Semantic.DeepEqual(old.GetLabels(), obj.GetLabels())
}

func (a *Auditor) enqueueSelected(namespace string, sel labels.Selector) {
	for _, w := range a.c.Cache.WorkloadsSelected(context.Background(), namespace, sel) {
		a.queue.Add(key{w.Kind, w.Meta.Namespace, w.Meta.Name})
	}
}

// RunLeading runs the audit until ctx ends: a full pass first, then every
// change, every policy reload and every Resync. Call it only while leading.
func (a *Auditor) RunLeading(ctx context.Context) {
	a.queue.Add(fullPass)
	go a.watchPolicy(ctx)
	go func() {
		<-ctx.Done()
		a.queue.Add(stop)
	}()
	for a.processNext(ctx) {
	}
	// Another replica takes over the gauges with the lease.
	metrics.AuditViolations.Reset()
	a.counted, a.totals = map[key]map[gaugeKey]int{}, map[gaugeKey]int{}
}

// ShutDown stops the queue for good, when the process ends.
func (a *Auditor) ShutDown() { a.queue.ShutDown() }

// watchPolicy queues a full pass on every policy reload and every Resync.
func (a *Auditor) watchPolicy(ctx context.Context) {
	poll := time.NewTicker(policyPoll)
	defer poll.Stop()
	resync := time.NewTicker(a.c.Resync)
	defer resync.Stop()
	last := a.c.Policy()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if p := a.c.Policy(); p != last {
				last = p
				a.queue.Add(fullPass)
			}
		case <-resync.C:
			a.queue.Add(fullPass)
		}
	}
}

func (a *Auditor) processNext(ctx context.Context) bool {
	k, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(k)
	if k == stop {
		a.queue.Forget(k)
		return ctx.Err() == nil
	}
	var err error
	if k == fullPass {
		err = a.full(ctx)
	} else {
		err = a.reconcile(ctx, k)
	}
	if err != nil && ctx.Err() == nil {
		a.c.Log.Error(err, "audit failed; retrying", "kind", k.kind, "namespace", k.namespace, "name", k.name)
		a.queue.AddRateLimited(k)
		return true
	}
	a.queue.Forget(k)
	return true
}

// FullPass judges every Laminar workload once, as the periodic pass does, and
// returns when it is done (for measurements; RunLeading runs it itself).
func (a *Auditor) FullPass(ctx context.Context) error { return a.full(ctx) }

// full judges every Laminar workload, listed whole from the API server a
// page at a time, and removes the reports of workloads that are gone.
func (a *Auditor) full(ctx context.Context) error {
	live := map[key]bool{}
	var errs []error
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}} {
		opts := &client.ListOptions{Limit: listPage}
		for {
			if err := a.c.Writer.List(ctx, list, opts); err != nil {
				return err
			}
			for _, obj := range items(list) {
				w, ok := workload.FromObject(obj)
				if !ok {
					continue
				}
				k := key{w.Kind, w.Meta.Namespace, w.Meta.Name}
				live[k] = true
				errs = append(errs, a.judge(ctx, k, w))
			}
			if opts.Continue = list.(metav1.ListInterface).GetContinue(); opts.Continue == "" {
				break
			}
		}
	}
	for k := range a.counted {
		if !live[k] {
			a.count(k, nil)
		}
	}
	if a.c.Reports {
		reports := &metav1.PartialObjectMetadataList{}
		reports.SetGroupVersionKind(reportsv1alpha1.SchemeGroupVersion.WithKind("ReportList"))
		if err := a.c.Cache.Reader().List(ctx, reports, client.MatchingLabels{LabelManagedBy: Source}); err != nil {
			return err
		}
		for i := range reports.Items {
			rep := &reports.Items[i]
			kind, name, _ := strings.Cut(rep.Annotations[AnnotationScope], "/")
			if !live[key{kind, rep.Namespace, name}] {
				gone := &reportsv1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Namespace: rep.Namespace, Name: rep.Name}}
				errs = append(errs, a.write(ctx, "delete", func() error { return client.IgnoreNotFound(a.c.Writer.Delete(ctx, gone)) }))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	metrics.AuditLastFull.Set(float64(a.c.Clock.Now().Unix()))
	return nil
}

// listPage is how many workloads a full pass lists per request.
const listPage = 500

func items(list client.ObjectList) []client.Object {
	var out []client.Object
	switch l := list.(type) {
	case *appsv1.DeploymentList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *appsv1.StatefulSetList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}

// reconcile judges one workload, read whole, after an event.
func (a *Auditor) reconcile(ctx context.Context, k key) error {
	var obj client.Object
	switch k.kind {
	case workload.KindDeployment:
		obj = &appsv1.Deployment{}
	case workload.KindStatefulSet:
		obj = &appsv1.StatefulSet{}
	default:
		return nil // an autoscaler of something else
	}
	err := a.c.Writer.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: k.name}, obj)
	if apierrors.IsNotFound(err) {
		return a.judge(ctx, k, nil)
	}
	if err != nil {
		return err
	}
	w, _ := workload.FromObject(obj)
	return a.judge(ctx, k, w)
}

// judge judges one workload (nil: gone, or not Laminar's) and brings its
// report and gauges in line.
func (a *Auditor) judge(ctx context.Context, k key, w *workload.Workload) error {
	if w == nil || w.Meta.DeletionTimestamp != nil {
		a.count(k, nil)
		return a.remove(ctx, k)
	}
	p := a.c.Policy()
	enforce, _ := p.EnforceMode(a.namespaceLabels(ctx, k.namespace))
	s := rules.Situation{Ctx: ctx, Now: a.c.Clock.Now(), View: a.c.Cache, Nodes: admit.NodesFor(ctx, a.c.Cache, p)}
	desired := Report(Judge(w, p, policy.ModeDeny, s), p, enforce)
	a.count(k, desired)
	if !a.c.Reports {
		return nil
	}
	seen := reportMeta()
	err := a.c.Cache.Reader().Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: desired.Name}, seen)
	switch {
	case apierrors.IsNotFound(err):
		stamp(desired, nil, a.c.Clock.Now())
		return a.write(ctx, "create", func() error { return ignoreExists(a.c.Writer.Create(ctx, desired)) })
	case err != nil:
		return err
	case seen.Annotations[AnnotationDigest] == desired.Annotations[AnnotationDigest]:
		return nil // nothing the auditor owns changed: no read, no write
	}
	// Changed: read it whole once, to keep the times its unchanged results were found.
	existing := &reportsv1alpha1.Report{}
	if err := a.c.Writer.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: desired.Name}, existing); err != nil {
		return client.IgnoreNotFound(err)
	}
	stamp(desired, existing, a.c.Clock.Now())
	desired.ResourceVersion = existing.ResourceVersion
	return a.write(ctx, "update", func() error { return a.c.Writer.Update(ctx, desired) })
}

// reportMeta is an empty Report as the cache holds them: metadata only, so
// that ten thousand reports cost their names and digests, not their results.
func reportMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(reportsv1alpha1.SchemeGroupVersion.WithKind("Report"))
	return m
}

func (a *Auditor) namespaceLabels(ctx context.Context, ns string) map[string]string {
	l, _ := a.c.Cache.Labels(ctx, ns)
	return l
}

// remove deletes the report of a workload that is gone or no longer Laminar's.
func (a *Auditor) remove(ctx context.Context, k key) error {
	if !a.c.Reports {
		return nil
	}
	seen := reportMeta()
	err := a.c.Cache.Reader().Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: ReportName(k.kind, k.name)}, seen)
	if apierrors.IsNotFound(err) || (err == nil && seen.Labels[LabelManagedBy] != Source) {
		return nil
	}
	if err != nil {
		return err
	}
	gone := &reportsv1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Namespace: seen.Namespace, Name: seen.Name}}
	return a.write(ctx, "delete", func() error { return client.IgnoreNotFound(a.c.Writer.Delete(ctx, gone)) })
}

// write makes one API write within the write budget.
func (a *Auditor) write(ctx context.Context, op string, do func() error) error {
	if err := a.limiter.Wait(ctx); err != nil {
		return err
	}
	if err := do(); err != nil {
		return fmt.Errorf("%s report: %w", op, err)
	}
	metrics.AuditWrites.WithLabelValues(op).Inc()
	return nil
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil // the cache had not seen it yet; the next event judges it again
	}
	return err
}

// count replaces k's contribution to the violation gauges by r's failing and
// warned results (nil: none).
func (a *Auditor) count(k key, r *reportsv1alpha1.Report) {
	now := map[gaugeKey]int{}
	if r != nil {
		for _, res := range r.Results {
			if res.Result == "fail" || res.Result == "warn" {
				now[gaugeKey{r.Namespace, res.Rule, res.Properties["action"]}]++
			}
		}
	}
	touched := map[gaugeKey]bool{}
	for g, n := range a.counted[k] {
		a.totals[g] -= n
		touched[g] = true
	}
	for g, n := range now {
		a.totals[g] += n
		touched[g] = true
	}
	for g := range touched {
		if a.totals[g] <= 0 {
			delete(a.totals, g)
			metrics.AuditViolations.DeleteLabelValues(g.namespace, g.rule, g.action)
			continue
		}
		metrics.AuditViolations.WithLabelValues(g.namespace, g.rule, g.action).Set(float64(a.totals[g]))
	}
	if len(now) == 0 {
		delete(a.counted, k)
		return
	}
	a.counted[k] = now
}

// stamp gives each result of desired the time it was first found: that of
// the same result in existing, else now.
func stamp(desired, existing *reportsv1alpha1.Report, now time.Time) {
	seen := map[string]metav1.Timestamp{}
	if existing != nil {
		for _, r := range existing.Results {
			seen[resultKey(r)] = r.Timestamp
		}
	}
	fresh := metav1.Timestamp{Seconds: now.Unix()}
	for i := range desired.Results {
		if t, ok := seen[resultKey(desired.Results[i])]; ok {
			desired.Results[i].Timestamp = t
		} else {
			desired.Results[i].Timestamp = fresh
		}
	}
}

// resultKey tells a result apart from another: same rule, subject, outcome
// and message is the same result.
func resultKey(r reportsv1alpha1.ReportResult) string {
	subject := ""
	if len(r.Subjects) > 0 {
		subject = r.Subjects[0].Kind + "/" + r.Subjects[0].Name
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%v", r.Rule, subject, r.Result, r.Description, r.Properties)
}
