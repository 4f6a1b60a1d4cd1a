package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	reportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/rules"
	"github.com/laminar/ha-webhook/pkg/validate"
)

// What the reports say of themselves, as Kyverno's and Policy Reporter's
// consumers group them.
const (
	Source     = "laminar-ha-webhook"
	PolicyName = "laminar-ha"
	// LabelManagedBy marks the reports this package writes; the auditor only
	// ever reads, updates or deletes reports that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// namePrefix starts every report's name.
	namePrefix = "laminar-ha-"
	// AnnotationScope names the workload a report is of ("Deployment/name"),
	// and AnnotationDigest digests what the auditor wrote: the auditor watches
	// the reports' metadata only and rewrites one only when its digest changes.
	AnnotationScope  = "ha.laminar.io/audit-scope"
	AnnotationDigest = "ha.laminar.io/audit-digest"
)

// Severities by action: what would be refused is high.
const (
	severityDeny = reportsv1alpha1.ResultSeverity("high")
	severityWarn = reportsv1alpha1.ResultSeverity("medium")
)

// ReportName is the name of the report of a workload: unique per kind and
// name in a namespace, and a valid object name however long the workload's.
func ReportName(kind, name string) string {
	n := namePrefix + strings.ToLower(kind) + "-" + name
	if len(n) <= 253 {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return n[:253-17] + "-" + hex.EncodeToString(sum[:8])
}

// Report renders v as the OpenReports Report of its workload, owned by it so
// that the garbage collector removes it with the workload. enforce is the
// namespace's enforcement mode, recorded with every result. Results carry no
// timestamp: the auditor stamps new ones and keeps those of unchanged ones.
func Report(v Verdict, p *policy.Policy, enforce string) *reportsv1alpha1.Report {
	w := v.Workload
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: w.Kind}
	self := corev1.ObjectReference{APIVersion: gvk.GroupVersion().String(), Kind: w.Kind, Namespace: w.Meta.Namespace,
		Name: w.Meta.Name, UID: w.Meta.UID}
	r := &reportsv1alpha1.Report{
		TypeMeta: metav1.TypeMeta{APIVersion: reportsv1alpha1.SchemeGroupVersion.String(), Kind: "Report"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ReportName(w.Kind, w.Meta.Name),
			Namespace:   w.Meta.Namespace,
			Labels:      map[string]string{LabelManagedBy: Source},
			Annotations: map[string]string{AnnotationScope: w.Kind + "/" + w.Meta.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: self.APIVersion, Kind: w.Kind, Name: w.Meta.Name,
				UID: w.Meta.UID}},
		},
		Source: Source,
		Scope:  &self,
	}
	add := func(subject corev1.ObjectReference, d validate.Decision, applied []string) {
		fired := map[string]bool{}
		for _, f := range d.Findings {
			fired[f.RuleID] = true
			r.Results = append(r.Results, result(f, subject, enforce))
		}
		for _, id := range applied {
			if !fired[id] {
				r.Results = append(r.Results, passed(id, subject, enforce))
			}
		}
	}
	add(self, v.Own, applicableChecks(v, p))
	for _, g := range v.Governing {
		ref := corev1.ObjectReference{Kind: g.Kind, Namespace: w.Meta.Namespace, Name: g.Name}
		ref.APIVersion = apiVersion(g.Kind)
		add(ref, g.Decision, applicableRelated(g.Kind, v, p))
	}
	for _, res := range r.Results {
		switch res.Result {
		case "pass":
			r.Summary.Pass++
		case "fail":
			r.Summary.Fail++
		case "warn":
			r.Summary.Warn++
		case "skip":
			r.Summary.Skip++
		}
	}
	r.Annotations[AnnotationDigest] = digest(r)
	return r
}

// applicableChecks are the workload checks run on v's workload: those that
// apply to it and are not off, but for the exemption rules, which judge
// exemptions only where there are some.
func applicableChecks(v Verdict, p *policy.Policy) []string {
	var ids []string
	for r := range rules.Checks() {
		if r.AppliesTo(v.Workload) && r.ActionIn(p) != rules.ActionOff && !strings.HasPrefix(r.ID, "exemption-") {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func applicableRelated(kind string, v Verdict, p *policy.Policy) []string {
	var ids []string
	for r := range rules.RelatedChecks() {
		if r.AppliesTo(kind, v.Workload) && r.ActionIn(p) != rules.ActionOff {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func result(f validate.Finding, subject corev1.ObjectReference, enforce string) reportsv1alpha1.ReportResult {
	res := reportsv1alpha1.ReportResult{
		Source: Source, Policy: PolicyName, Rule: f.RuleID, Category: section(f.RuleID), Scored: true,
		Subjects:    []corev1.ObjectReference{subject},
		Description: strings.TrimPrefix(f.Err.Detail, "["+f.RuleID+"] "),
		Properties: map[string]string{
			"field":   f.Err.Field,
			"action":  string(f.Action),
			"outcome": string(f.Outcome),
			"enforce": enforce,
		},
	}
	if v := fmt.Sprint(f.Err.BadValue); f.Err.Type != "FieldValueRequired" && v != "" {
		res.Properties["value"] = v
	}
	switch f.Outcome {
	case validate.OutcomeDeny, validate.OutcomeAudit:
		res.Result, res.Severity = "fail", severityDeny
	case validate.OutcomeExempt:
		res.Result, res.Severity = "skip", severityOf(f.Action)
		res.Properties["exempt"] = "true"
	default:
		res.Result, res.Severity = "warn", severityWarn
	}
	return res
}

func passed(id string, subject corev1.ObjectReference, enforce string) reportsv1alpha1.ReportResult {
	return reportsv1alpha1.ReportResult{
		Source: Source, Policy: PolicyName, Rule: id, Category: section(id), Scored: true, Result: "pass",
		Subjects: []corev1.ObjectReference{subject}, Properties: map[string]string{"enforce": enforce},
	}
}

func severityOf(a rules.Action) reportsv1alpha1.ResultSeverity {
	if a == rules.ActionWarn {
		return severityWarn
	}
	return severityDeny
}

func section(id string) string {
	if r, ok := rules.ByID(id); ok {
		return r.Describe().Section
	}
	return ""
}

// digest is a digest of what the auditor owns in r, result timestamps left out.
func digest(r *reportsv1alpha1.Report) string {
	results := make([]reportsv1alpha1.ReportResult, len(r.Results))
	for i, res := range r.Results {
		res.Timestamp = metav1.Timestamp{}
		results[i] = res
	}
	data, _ := json.Marshal(struct {
		Source  string
		Scope   *corev1.ObjectReference
		Owners  []metav1.OwnerReference
		Results []reportsv1alpha1.ReportResult
		Summary reportsv1alpha1.ReportSummary
	}{r.Source, r.Scope, r.OwnerReferences, results, r.Summary})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
