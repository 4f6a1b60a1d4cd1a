package admit

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/laminar/ha-webhook/pkg/exempt"
	"github.com/laminar/ha-webhook/pkg/kubejson"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// replicaRules judge a scale request: the same rules, and so the same messages,
// as an edit of spec.replicas, the workload's disruption budgets included.
var replicaRules = []string{"replicas-min", "replicas-recommended", "pdb-allows-drain", "pdb-keeps-one", "controller-leader-election"}

// NewScaleValidator judges writes to the scale subresource of Deployments and
// StatefulSets (kubectl scale, autoscalers). A Scale carries none of its parent's
// labels, so the parent is looked up in Config.Cluster.
func NewScaleValidator(c Config) *Handler {
	return c.handler(WebhookValidateScale, enforcementGate, func(admission.Request) string { return "Scale" }, readScale(c.Cluster))
}

func readScale(cluster rules.View) func(ctx context.Context, req admission.Request) reading {
	return func(ctx context.Context, req admission.Request) reading {
		return scaleReading(ctx, cluster, req)
	}
}

func scaleReading(ctx context.Context, cluster rules.View, req admission.Request) reading {
	var kind string
	switch {
	case req.SubResource != "scale" || req.Resource.Group != "apps":
		return skipped(fmt.Sprintf("%s/%s is not judged", req.Resource.Resource, req.SubResource))
	case req.Resource.Resource == "deployments":
		kind = workload.KindDeployment
	case req.Resource.Resource == "statefulsets":
		kind = workload.KindStatefulSet
	default:
		return skipped(fmt.Sprintf("%s/%s is not judged", req.Resource.Resource, req.SubResource))
	}
	var scale autoscalingv1.Scale
	if len(req.Object.Raw) == 0 {
		return unreadable(fmt.Errorf("Scale: no object in the request"))
	}
	if err := kubejson.Unmarshal(req.Object.Raw, &scale); err != nil {
		return unreadable(fmt.Errorf("Scale: object does not fit autoscaling/v1 Scale: %w", err))
	}
	if cluster == nil {
		return skipped("no cluster view: scale requests cannot be matched to a workload")
	}
	parent, ok := cluster.Workload(ctx, kind, req.Namespace, req.Name)
	if !ok {
		return skipped("not a Laminar workload")
	}
	return reading{
		subject: Subject{Kind: kind, Role: parent.Role, GroupKind: parent.GroupKind(), Name: req.Name,
			Namespace: req.Namespace, Exemption: exempt.Read(parent.Meta.Annotations)},
		judge: func(verdict *Verdict, p *policy.Policy, mode string, s rules.Situation) {
			var old autoscalingv1.Scale
			if req.Operation == admissionv1.Update && kubejson.Unmarshal(req.OldObject.Raw, &old) == nil && len(req.OldObject.Raw) > 0 {
				s.Old = parent.WithReplicas(old.Spec.Replicas)
			}
			d := validate.Judge(parent.WithReplicas(scale.Spec.Replicas), p, validate.Context{Mode: mode, Only: replicaRules, Situation: s})
			verdict.Decision = &d
		},
	}
}
