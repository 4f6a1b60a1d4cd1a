// Package report holds the results of an offline check (`laminar-ha-webhook check`)
// and renders them as text for people, JSON for scripts and SARIF 2.1.0 for code
// scanning. The JSON form is the Report type itself; its schema is documented in
// docs/cli.md and versioned by SchemaVersion.
package report

import (
	"encoding/json"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// SchemaVersion is the version of the JSON schema. It changes only when a field
// is removed or changes meaning; new fields may appear without a change.
const SchemaVersion = 1

// Actions of a violation, as in the rule catalog.
const (
	ActionDeny = "deny"
	ActionWarn = "warn"
)

// Outcomes of a violation: what the validating webhook does with it.
const (
	// OutcomeDeny rejects the object.
	OutcomeDeny = "deny"
	// OutcomeWarn is a warn rule's admission warning.
	OutcomeWarn = "warn"
	// OutcomeAudit is a deny rule in a namespace whose enforcement mode is warn:
	// a warning ("would deny: …"), the object is admitted.
	OutcomeAudit = "audit"
	// OutcomeExempt is a violation an exemption annotation excuses: no warning.
	OutcomeExempt = "exempt"
)

// Report is the result of checking a set of inputs.
type Report struct {
	SchemaVersion int  `json:"schemaVersion"`
	Tool          Tool `json:"tool"`
	// Mutated is true when objects were judged after the webhook's mutation (the
	// default: what the cluster would store), false with --no-mutate.
	Mutated bool `json:"mutated"`
	// Live is true when the objects were read from a cluster, as stored (the
	// audit command); File, Document and the lines are then empty.
	Live    bool    `json:"live,omitempty"`
	Summary Summary `json:"summary"`
	// Objects lists every Laminar object judged, in input order, with or without
	// violations. Objects that are not Laminar's are not listed.
	Objects []Object `json:"objects"`
	// Errors lists inputs, documents and items that could not be read, in input order.
	Errors []InputError `json:"errors"`
	// Policy is the policy the objects were judged under (nil: the guide's
	// defaults); SARIF lists its rules with the actions it puts in force.
	Policy *policy.Policy `json:"-"`
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts what was read and found.
type Summary struct {
	Files     int `json:"files"`     // inputs read: files and standard input
	Documents int `json:"documents"` // YAML documents in them
	Objects   int `json:"objects"`   // Laminar objects judged
	Denied    int `json:"denied"`    // objects with at least one denial
	Denials   int `json:"denials"`   // violations with outcome deny
	Warnings  int `json:"warnings"`  // violations with outcome warn or audit
	Exempted  int `json:"exempted"`  // violations with outcome exempt
	Errors    int `json:"errors"`    // entries in Errors
}

// Object is one judged Laminar Deployment or StatefulSet.
type Object struct {
	// File is the input as named on the command line (or found in a directory);
	// standard input is "<stdin>" unless --stdin-name says otherwise.
	File string `json:"file"`
	// Document is the 1-based position of the YAML document in File.
	Document int `json:"document"`
	// Item is the 1-based position in the document's List; absent (0) otherwise.
	Item int `json:"item,omitempty"`
	// Line and Column are where the object starts in File.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Source is the Helm template the document came from ("# Source:" comment).
	Source     string `json:"source,omitempty"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	// Name is metadata.name, or metadata.generateName when no name is set.
	Name string `json:"name"`
	// Role is the Laminar part: "api" or "controller".
	Role string `json:"role"`
	// Enforce is the enforcement mode that applied: "deny", "warn" or "off"
	// (the namespace's ha.laminar.io/enforce label, else the policy's default).
	Enforce string `json:"enforce"`
	// Mutate is the mutation switch that applied: "on" or "off"; empty for a
	// kind no default fills (a Service).
	Mutate string `json:"mutate"`
	// Allowed is what the validating webhook would answer: false when any
	// violation has outcome deny.
	Allowed bool `json:"allowed"`
	// DefaultsApplied lists the default rules mutation applied, in catalog order.
	DefaultsApplied []string `json:"defaultsApplied"`
	// DefaultsExempted lists default rules an exemption annotation switched off.
	DefaultsExempted []string `json:"defaultsExempted,omitempty"`
	// Exemption is what the object's ha.laminar.io/exempt annotations ask for.
	Exemption *Exemption `json:"exemption,omitempty"`
	// Notes are the webhook's other warnings, such as a namespace label it ignored.
	Notes      []string    `json:"notes,omitempty"`
	Violations []Violation `json:"violations"`
}

// Exemption is an object's exemption annotations.
type Exemption struct {
	Rules  []string `json:"rules"`
	Reason string   `json:"reason,omitempty"`
	Until  string   `json:"until,omitempty"`
}

// Violation is one failed check.
type Violation struct {
	RuleID string `json:"ruleId"`
	// Action is the rule's in force: "deny", "warn" or "audit" (the catalog's,
	// or the one the policy's rules map sets).
	Action string `json:"action"`
	// Outcome is what the webhook does with this violation: "deny", "warn",
	// "audit" (a deny rule, warned in warn mode) or "exempt".
	Outcome string `json:"outcome"`
	// Field is the Kubernetes field path, as in the webhook's causes.
	Field string `json:"field"`
	// Reason is the cause type the API server reports: FieldValueInvalid,
	// FieldValueRequired, ...
	Reason string `json:"reason"`
	// Value is the offending value, absent for a missing field.
	Value json.RawMessage `json:"value,omitempty"`
	// Message says what is wrong, without the rule ID and the fix.
	Message string `json:"message"`
	// Fix says how to repair it, when the rule says.
	Fix string `json:"fix,omitempty"`
	// Line and Column locate Field in File; a field that is not written (left
	// out, or added by mutation) is located at its nearest written ancestor.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// InputError is an input, document or List item that could not be read or judged.
type InputError struct {
	File     string `json:"file"`
	Document int    `json:"document,omitempty"`
	Item     int    `json:"item,omitempty"`
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message"`
}

// New returns an empty report.
func New(tool Tool, mutated bool) *Report {
	return &Report{SchemaVersion: SchemaVersion, Tool: tool, Mutated: mutated, Objects: []Object{}, Errors: []InputError{}}
}

// AddObject appends a judged object and counts it.
func (r *Report) AddObject(o Object) {
	if o.Violations == nil {
		o.Violations = []Violation{}
	}
	if o.DefaultsApplied == nil {
		o.DefaultsApplied = []string{}
	}
	o.Allowed = true
	for _, v := range o.Violations {
		switch v.Outcome {
		case OutcomeDeny:
			r.Summary.Denials++
			o.Allowed = false
		case OutcomeWarn, OutcomeAudit:
			r.Summary.Warnings++
		case OutcomeExempt:
			r.Summary.Exempted++
		}
	}
	if !o.Allowed {
		r.Summary.Denied++
	}
	r.Summary.Objects++
	r.Objects = append(r.Objects, o)
}

// AddError appends an input error and counts it.
func (r *Report) AddError(e InputError) {
	r.Errors = append(r.Errors, e)
	r.Summary.Errors++
}

// String renders the error as "file:line: document N, item M: message".
func (e InputError) String() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + itoa(e.Line)
	}
	if e.Document > 0 {
		s += ": document " + itoa(e.Document)
		if e.Item > 0 {
			s += ", item " + itoa(e.Item)
		}
	}
	return s + ": " + e.Message
}

// Ref names an object the way kubectl does: Kind namespace/name.
func (o Object) Ref() string {
	if o.Namespace != "" {
		return o.Kind + " " + o.Namespace + "/" + o.Name
	}
	return o.Kind + " " + o.Name
}
