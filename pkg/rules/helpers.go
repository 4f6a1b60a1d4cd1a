package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// selectsPods reports whether a term's selector picks the workload's own pods,
// as metav1.LabelSelectorAsSelector's selector would: an empty or invalid
// selector picks nothing.
func selectsPods(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil {
		return false
	}
	// Requirements are ANDed, and an invalid one picks nothing: a matchLabels
	// pair the pods do not carry answers without building the selector, and a
	// selector of matchLabels alone, all carried, picks them when every pair is
	// valid. Every term of every workload is judged so, on every request.
	for k, v := range sel.MatchLabels {
		if got, ok := podLabels[k]; !ok || got != v {
			return false
		}
	}
	if len(sel.MatchExpressions) == 0 {
		for k, v := range sel.MatchLabels {
			if len(content.IsLabelKey(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
				return false
			}
		}
		return len(sel.MatchLabels) > 0
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// antiAffinityTerms lists the pod anti-affinity terms on a topology key, required first.
func antiAffinityTerms(spec *corev1.PodSpec, topologyKey string) (required, preferred []corev1.PodAffinityTerm) {
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil {
		return nil, nil
	}
	aa := spec.Affinity.PodAntiAffinity
	for _, t := range aa.RequiredDuringSchedulingIgnoredDuringExecution {
		if t.TopologyKey == topologyKey {
			required = append(required, t)
		}
	}
	for _, t := range aa.PreferredDuringSchedulingIgnoredDuringExecution {
		if t.PodAffinityTerm.TopologyKey == topologyKey {
			preferred = append(preferred, t.PodAffinityTerm)
		}
	}
	return required, preferred
}

// antiAffinityPath is where pod anti-affinity lives in a workload.
var antiAffinityPath = workload.PodSpecPath.Child("affinity", "podAntiAffinity")

// ownPodSelector selects the workload's pods by the label that made them Laminar's.
func ownPodSelector(w *workload.Workload) *metav1.LabelSelector {
	l, _ := w.RoleLabel()
	return &metav1.LabelSelector{MatchLabels: l}
}

// ensurePodAntiAffinity returns the pod's anti-affinity, creating the parents as needed.
func ensurePodAntiAffinity(spec *corev1.PodSpec) *corev1.PodAntiAffinity {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	return spec.Affinity.PodAntiAffinity
}

// httpProbe builds a probe with every field the API server would otherwise default,
// so the stored object equals what mutation produced.
func httpProbe(path string, port, delay, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   path,
			Port:   intstr.FromInt32(port),
			Scheme: corev1.URISchemeHTTP,
		}},
		InitialDelaySeconds: delay,
		PeriodSeconds:       period,
		FailureThreshold:    failures,
		TimeoutSeconds:      1,
		SuccessThreshold:    1,
	}
}
