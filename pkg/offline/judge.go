package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/laminar/ha-webhook/pkg/admit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/manifest"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
)

// parsedDoc is one document of one source, read once.
type parsedDoc struct {
	doc     manifest.Document
	content manifest.Content
	err     error
}

// parsedSource is a source cut into documents.
type parsedSource struct {
	Source
	docs []parsedDoc
}

// Namespaces holds the labels of the Namespace objects found in the input, which
// play the part of the cluster's namespaces: their ha.laminar.io/enforce and
// ha.laminar.io/mutate labels switch the webhook per namespace.
type Namespaces map[string]map[string]string

// switchLabels are the namespace labels that switch the webhooks.
var switchLabels = []string{policy.LabelMode, policy.LabelMutate}

// parseAll reads every source's documents, and the Namespaces among them (a
// later Namespace of the same name wins, as a later apply would). Unless trust
// is set, the switch labels of those Namespaces are dropped: in CI the input is
// the pull request, and a Namespace in it must not switch its own check off.
// ignored lists, per namespace, the labels dropped, for the objects' notes.
//
// The Nodes among them play the cluster's nodes (zone defaults, warnings);
// its workloads, budgets, autoscalers, Services and IngressClasses the
// cluster's stored objects (view, for ClusterView).
func parseAll(srcs []Source, trust bool) (out []parsedSource, ns Namespaces, nodes inputNodes, view []manifest.Object, ignored map[string][]string) {
	ns, ignored = Namespaces{}, map[string][]string{}
	out = make([]parsedSource, 0, len(srcs))
	for _, src := range srcs {
		ps := parsedSource{Source: src}
		if src.Err == nil {
			for _, doc := range manifest.Split(src.Data) {
				pd := parsedDoc{doc: doc}
				if !doc.Blank() {
					pd.content, pd.err = doc.Objects()
				}
				for _, o := range pd.content.Objects {
					view = append(view, o)
					var node corev1.Node
					if o.GVK == corev1.SchemeGroupVersion.WithKind("Node") && kubejson.Unmarshal(o.JSON, &node) == nil {
						nodes = append(nodes, node)
					}
					if o.GVK.Group == "" && o.GVK.Version == "v1" && o.GVK.Kind == "Namespace" {
						var meta struct {
							Metadata struct {
								Name   string            `json:"name"`
								Labels map[string]string `json:"labels"`
							} `json:"metadata"`
						}
						if kubejson.Unmarshal(o.JSON, &meta) == nil && meta.Metadata.Name != "" {
							labels, dropped := meta.Metadata.Labels, []string(nil)
							if !trust {
								labels, dropped = withoutSwitches(labels)
							}
							ns[meta.Metadata.Name], ignored[meta.Metadata.Name] = labels, dropped
						}
					}
				}
				ps.docs = append(ps.docs, pd)
			}
		}
		out = append(out, ps)
	}
	return out, ns, nodes, view, ignored
}

// inputNodes are the Node objects of the input. With none, nothing is known
// of the nodes and the guide's multi-zone cluster is assumed, as the webhook
// does before it has seen a schedulable node.
type inputNodes []corev1.Node

// Nodes implements admit.NodeSource.
func (n inputNodes) Nodes(context.Context) rules.Nodes { return rules.NodesOf([]corev1.Node(n)) }

// withoutSwitches returns labels without the switch labels, and those dropped
// as "key=value".
func withoutSwitches(labels map[string]string) (map[string]string, []string) {
	var dropped []string
	kept := map[string]string{}
	for k, v := range labels {
		if slices.Contains(switchLabels, k) {
			dropped = append(dropped, k+"="+v)
			continue
		}
		kept[k] = v
	}
	slices.Sort(dropped)
	return kept, dropped
}

// ignoredNote tells the user that a Namespace of the input asked for a switch
// the check did not honour.
func ignoredNote(namespace string, dropped []string) string {
	return fmt.Sprintf("namespace %s in the input sets %s: ignored, since the input is not trusted to switch its own check (--trust-namespace-labels honours it)",
		namespace, strings.Join(dropped, ", "))
}

// Labels implements admit.Namespaces.
func (n Namespaces) Labels(_ context.Context, name string) (map[string]string, bool) {
	l, ok := n[name]
	return l, ok
}

// engine is the webhook pair as the offline check runs it: the same handlers'
// Decide, over requests made from the manifests, so the CLI and the cluster
// cannot disagree on what is judged or how.
type engine struct {
	mutator   *admit.Handler
	validator *admit.Handler
	// relatedMutator and relatedValidator judge the budgets, autoscalers,
	// Services and Ingresses of the input against its workloads.
	relatedMutator   *admit.Handler
	relatedValidator *admit.Handler
	// ignored are the switch labels of the input's Namespaces not honoured.
	ignored map[string][]string
}

// newEngine reads the sources and builds the engine over their Namespaces.
func newEngine(srcs []Source, opts Options) ([]parsedSource, engine) {
	p := opts.Policy
	if p == nil {
		p = policy.Default()
	}
	sources, ns, nodes, objs, ignored := parseAll(srcs, opts.TrustNamespaceLabels)
	c := admit.Config{Policy: admit.Static(p), Namespaces: ns, Nodes: nodes, Clock: opts.Clock, Access: admit.Unchecked}
	// The input's objects are the cluster's; an input the view cannot hold
	// leaves the cluster unknown, and the rules that read one pass.
	if view, err := ClusterView(objs); err == nil {
		c.Cluster = view
	}
	return sources, engine{mutator: admit.NewMutator(c), validator: admit.NewValidator(c),
		relatedMutator: admit.NewRelatedMutator(c), relatedValidator: admit.NewRelatedValidator(c), ignored: ignored}
}

// relatedKinds are the kinds the offline check judges against the input's
// workloads, as the webhook's related entries do.
var relatedKinds = []schema.GroupVersionKind{
	policyv1.SchemeGroupVersion.WithKind(rules.KindPodDisruptionBudget),
	autoscalingv2.SchemeGroupVersion.WithKind(rules.KindHorizontalPodAutoscaler),
	corev1.SchemeGroupVersion.WithKind(rules.KindService),
	networkingv1.SchemeGroupVersion.WithKind(rules.KindIngress),
}

// related reports whether objects of gvk are judged against the workloads they govern or route to.
func related(gvk schema.GroupVersionKind) bool { return slices.Contains(relatedKinds, gvk) }

// ClusterView is the cluster the objects make up for the rules that read one
// (budgets, autoscalers, Services, IngressClasses and the workloads they
// govern), answered by the cache's own methods (cluster.FromObjects): as
// kubectl apply would leave it, a later object of the same kind, namespace and
// name replacing an earlier one. Kinds the view does not hold, unnamed objects
// and objects that cannot be read are left out.
func ClusterView(objs []manifest.Object) (*cluster.Cache, error) {
	type key struct {
		gvk             schema.GroupVersionKind
		namespace, name string
	}
	index := map[key]int{}
	var stored []client.Object
	for _, o := range objs {
		obj := clusterObject(o)
		if obj == nil || obj.GetName() == "" {
			continue
		}
		k := key{o.GVK, obj.GetNamespace(), obj.GetName()}
		if i, ok := index[k]; ok {
			stored[i] = obj
			continue
		}
		index[k] = len(stored)
		stored = append(stored, obj)
	}
	return cluster.FromObjects(stored)
}

// clusterObject is o as the cluster view holds it, or nil for a kind the
// view does not hold or an object that cannot be read (reported elsewhere).
func clusterObject(o manifest.Object) client.Object {
	if o.Err != nil {
		return nil
	}
	if obj, ok := o.Typed.(client.Object); ok {
		return obj
	}
	var obj client.Object
	switch o.GVK {
	case policyv1.SchemeGroupVersion.WithKind(rules.KindPodDisruptionBudget):
		obj = &policyv1.PodDisruptionBudget{}
	case autoscalingv2.SchemeGroupVersion.WithKind(rules.KindHorizontalPodAutoscaler):
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	case corev1.SchemeGroupVersion.WithKind(rules.KindService):
		obj = &corev1.Service{}
	case networkingv1.SchemeGroupVersion.WithKind("IngressClass"):
		obj = &networkingv1.IngressClass{}
	default:
		return nil
	}
	if kubejson.Unmarshal(o.JSON, obj) != nil {
		return nil
	}
	return obj
}

// createRequest is the CREATE an API server would send for the object; its
// namespace is the object's own, as kubectl sends it.
func createRequest(o manifest.Object, raw []byte) admission.Request {
	var meta struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = kubejson.Unmarshal(raw, &meta) // the object was decoded already; a failure only leaves the names empty
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "offline",
		Kind:      metav1.GroupVersionKind(o.GVK),
		Name:      meta.Metadata.Name,
		Namespace: meta.Metadata.Namespace,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}}
}

// judged is one Laminar object after the engine.
type judged struct {
	// Mutation and Validation are the two webhooks' verdicts; Validation's
	// Subject names the object judged (mutated, unless judged as written or
	// mutation is off in its namespace).
	Mutation, Validation admit.Verdict
	// Ignored are the switch labels of the object's Namespace not honoured.
	Ignored []string
}

// Notes are the namespace-label notes both webhooks would send as warnings,
// and the note on switch labels not honoured.
func (j *judged) Notes() []string {
	var notes []string
	for _, n := range []string{j.Mutation.Switch.Note, j.Validation.Switch.Note} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	if len(j.Ignored) > 0 {
		notes = append(notes, ignoredNote(j.Validation.Subject.Namespace, j.Ignored))
	}
	return notes
}

// Decision is the validating webhook's; empty when enforcement is off.
func (j *judged) Decision() validate.Decision {
	if d := j.Validation.Decision; d != nil {
		return *d
	}
	return validate.Decision{}
}

// mutateObject runs the mutating webhook on one object; nil when the webhook
// does not judge it. An object that could not be decoded (o.Err) is reported by
// the caller, as an input error, before this is called.
func (e engine) mutateObject(o manifest.Object) (*admit.Verdict, error) {
	m := e.mutator
	if related(o.GVK) {
		m = e.relatedMutator
	}
	v := m.Decide(context.Background(), createRequest(o, o.JSON))
	if v.Err != nil {
		return nil, fmt.Errorf("mutate: %w", v.Err)
	}
	if !v.Judged {
		return nil, nil
	}
	return &v, nil
}

// judge runs both webhooks on one object, as a CREATE: mutation (whose patch is
// kept unless asWritten), then validation of the result. nil when the object is
// not judged at all.
func (e engine) judge(o manifest.Object, asWritten bool) (*judged, error) {
	if related(o.GVK) {
		return e.judgeRelated(o, asWritten)
	}
	mv, err := e.mutateObject(o)
	if err != nil || mv == nil {
		return nil, err
	}
	j := &judged{Mutation: *mv, Ignored: e.ignored[mv.Subject.Namespace]}
	raw := o.JSON
	if asWritten {
		j.Mutation.Mutation = nil
	} else if res := mv.Mutation; res != nil && len(res.Patch) > 0 {
		if raw, err = json.Marshal(res.Object); err != nil {
			return nil, fmt.Errorf("mutate: encode the mutated object: %w", err)
		}
	}
	j.Validation = e.validator.Decide(context.Background(), createRequest(o, raw))
	if j.Validation.Err != nil {
		return nil, fmt.Errorf("validate: %w", j.Validation.Err)
	}
	if !j.Validation.Judged {
		return nil, fmt.Errorf("mutate: the mutated object is no longer a Laminar workload")
	}
	return j, nil
}

// judgeRelated is judge for a budget, an autoscaler, a Service or an Ingress:
// the related mutator (whose patch is kept unless asWritten; it fills
// Ingresses only, and the others' mutation verdict stays empty), then the
// related validator. nil when the object governs or routes to no Laminar
// workload of the input.
func (e engine) judgeRelated(o manifest.Object, asWritten bool) (*judged, error) {
	mv, err := e.mutateObject(o)
	if err != nil {
		return nil, err
	}
	j := &judged{}
	raw := o.JSON
	if mv != nil {
		j.Mutation = *mv
		if asWritten {
			j.Mutation.Mutation = nil
		} else if res := mv.Mutation; res != nil && len(res.Patch) > 0 {
			if raw, err = json.Marshal(res.Object); err != nil {
				return nil, fmt.Errorf("mutate: encode the mutated object: %w", err)
			}
		}
	}
	j.Validation = e.relatedValidator.Decide(context.Background(), createRequest(o, raw))
	if j.Validation.Err != nil {
		return nil, fmt.Errorf("validate: %w", j.Validation.Err)
	}
	if !j.Validation.Judged {
		return nil, nil
	}
	j.Ignored = e.ignored[j.Validation.Subject.Namespace]
	return j, nil
}
