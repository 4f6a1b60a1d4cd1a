package rules

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/workload"
)

// flag is a command-line flag found in a container's command or args.
type flag struct {
	Value    string
	HasValue bool // false for a bare boolean "--name"
	Path     *field.Path
}

// findFlag looks for --name or -name, as "--name=value", "--name value" or a bare
// "--name", in command then args; the last occurrence wins, as with Go's flag package.
// A value is only taken from the next word when takesValue is set, because Go's flag
// package never does that for booleans.
func findFlag(c *corev1.Container, cPath *field.Path, name string, takesValue bool) (flag, bool) {
	var found flag
	ok := false
	scan := func(words []string, p *field.Path) {
		for i, w := range words {
			trimmed := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
			if trimmed == w {
				continue
			}
			switch {
			case trimmed == name:
				found, ok = flag{Path: p.Index(i)}, true
				if takesValue && i+1 < len(words) {
					found.Value, found.HasValue = words[i+1], true
				}
			case strings.HasPrefix(trimmed, name+"="):
				found, ok = flag{Value: strings.TrimPrefix(trimmed, name+"="), HasValue: true, Path: p.Index(i)}, true
			}
		}
	}
	scan(c.Command, cPath.Child("command"))
	scan(c.Args, cPath.Child("args"))
	return found, ok
}

// boolFlagValue reads a boolean flag the way Go's flag package does: a bare flag is true.
func boolFlagValue(f flag) (value, valid bool) {
	if !f.HasValue {
		return true, true
	}
	switch strings.ToLower(f.Value) {
	case "1", "t", "true":
		return true, true
	case "0", "f", "false":
		return false, true
	}
	return false, false
}

// setting is a value read from a flag or, failing that, an environment variable.
type setting struct {
	Value string
	Path  *field.Path
	// FromRef is set when the env var comes from a Secret or ConfigMap this
	// webhook cannot read.
	FromRef bool
}

// findSetting returns a flag's value, else the env var's, else ok=false.
func findSetting(c *corev1.Container, cPath *field.Path, flagName, envName string) (setting, bool) {
	if f, ok := findFlag(c, cPath, flagName, true); ok {
		return setting{Value: f.Value, Path: f.Path}, true
	}
	for i := len(c.Env) - 1; i >= 0; i-- {
		e := c.Env[i]
		if e.Name != envName {
			continue
		}
		p := cPath.Child("env").Index(i)
		if e.ValueFrom != nil {
			return setting{Path: p.Child("valueFrom"), FromRef: true}, true
		}
		return setting{Value: e.Value, Path: p.Child("value")}, true
	}
	return setting{}, false
}

// selectsPods reports whether a term's selector picks the workload's own pods.
func selectsPods(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil {
		return false
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
