package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/workload"
)

// checkAPIAntiAffinity denies an api whose pods may all land on one node: it needs an
// anti-affinity term (preferred or required) on the node key that selects its own pods.
func checkAPIAntiAffinity(w *workload.Workload, p *policy.Policy, _ Situation) field.ErrorList {
	key := p.API.AntiAffinity.TopologyKey
	req, pref := antiAffinityTerms(&w.Template.Spec, key)
	for _, t := range append(req, pref...) {
		if selectsPods(t.LabelSelector, w.Template.Labels) {
			return nil
		}
	}
	return field.ErrorList{field.Required(antiAffinityPath,
		fmt.Sprintf("no anti-affinity term on %s selects the api's own pods; fix: add a preferred term with that topologyKey and labelSelector %s",
			key, selectorText(w)))}
}

// selectorText shows the label selector a fix should use.
func selectorText(w *workload.Workload) string {
	l, _ := w.RoleLabel()
	s := ""
	for _, k := range []string{workload.LabelApp, workload.LabelAppName, workload.LabelAppComponent} {
		if v, ok := l[k]; ok {
			if s != "" {
				s += ","
			}
			s += k + "=" + v
		}
	}
	return s
}
