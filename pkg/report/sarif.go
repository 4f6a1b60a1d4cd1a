package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/laminar/ha-webhook/pkg/rules"
)

// SARIF 2.1.0, the subset code-scanning services read.
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// srcRoot is the base of relative file URIs: the directory the check ran in,
	// normally the repository root.
	srcRoot = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	ColumnKind  string            `json:"columnKind"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name    string      `json:"name"`
	Version string      `json:"version"`
	Rules   []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifRuleConf  `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	Properties   map[string]any     `json:"properties,omitempty"`
}

// sarifSuppression records an exemption annotation: the result stays in the log,
// marked as suppressed in the source, so code scanning shows it as such.
type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// sarifLevel maps a rule action, or a violation's outcome, to a SARIF level:
// deny → error; warn and audit (a deny only warned) → warning; an exempted
// violation keeps its rule's level and is marked suppressed instead.
func sarifLevel(actionOrOutcome string) string {
	if actionOrOutcome == ActionDeny {
		return "error"
	}
	return "warning"
}

// SARIF writes the report as a SARIF 2.1.0 log for code-scanning upload: the
// catalog's checks as tool.driver.rules (deny → error, warn → warning), one
// result per violation located at the offending field's line, and input errors
// as tool execution notifications (the invocation then did not succeed).
func SARIF(w io.Writer, r *Report) error {
	var ruleList []sarifRule
	index := map[string]int{}
	for _, entry := range rules.All() {
		rule := entry.Describe()
		rule.Action = rules.InForce(entry, r.Policy)
		if rule.Action == rules.ActionDefault || rule.Action == rules.ActionOff {
			continue // defaults are filled in, never reported; rules off never run
		}
		roles := make([]string, len(rule.Roles))
		for i, role := range rule.Roles {
			roles[i] = string(role)
		}
		kinds := rule.Kinds
		if len(kinds) == 0 {
			kinds = []string{"Deployment", "StatefulSet"}
		}
		index[rule.ID] = len(ruleList)
		ruleList = append(ruleList, sarifRule{
			ID:                   rule.ID,
			Name:                 pascal(rule.ID),
			ShortDescription:     sarifText{rule.Summary},
			FullDescription:      sarifText{rule.Summary + " Guide section: " + rule.Section + "."},
			Help:                 sarifText{rule.Summary + " Guide section: " + rule.Section + ". Every rule: docs/rules.md."},
			DefaultConfiguration: sarifRuleConf{Level: sarifLevel(string(rule.Action))},
			Properties: map[string]any{
				"tags":    []string{"kubernetes", "high-availability", "laminar"},
				"action":  string(rule.Action),
				"roles":   roles,
				"kinds":   kinds,
				"section": rule.Section,
			},
		})
	}

	results := []sarifResult{}
	for _, o := range r.Objects {
		for _, v := range o.Violations {
			level := sarifLevel(v.Outcome)
			if v.Outcome == OutcomeExempt {
				level = sarifLevel(v.Action)
			}
			res := sarifResult{
				RuleID:    v.RuleID,
				RuleIndex: index[v.RuleID],
				Level:     level,
				Message:   sarifText{sarifMessage(o, v)},
				Locations: []sarifLocation{{
					PhysicalLocation: physical(o.File, v.Line, v.Column),
					LogicalLocations: []sarifLogical{{
						Name:               v.Field,
						FullyQualifiedName: o.Ref() + "/" + v.Field,
						Kind:               "member",
					}},
				}},
				Properties: map[string]any{"document": o.Document, "object": o.Ref(), "field": v.Field, "outcome": v.Outcome},
			}
			if v.Outcome == OutcomeExempt {
				sup := sarifSuppression{Kind: "inSource", Status: "accepted"}
				if o.Exemption != nil {
					sup.Justification = o.Exemption.Reason
				}
				res.Suppressions = []sarifSuppression{sup}
			}
			if o.Item > 0 {
				res.Properties["item"] = o.Item
			}
			if o.Source != "" {
				res.Properties["helmSource"] = o.Source
			}
			results = append(results, res)
		}
	}

	notes := []sarifNotification{}
	for _, e := range r.Errors {
		n := sarifNotification{Level: "error", Message: sarifText{e.String()}}
		if e.File != "" {
			n.Locations = []sarifLocation{{PhysicalLocation: physical(e.File, e.Line, 0)}}
		}
		notes = append(notes, n)
	}

	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: sarifDriver{Name: r.Tool.Name, Version: r.Tool.Version, Rules: ruleList}},
			Invocations: []sarifInvocation{{ExecutionSuccessful: len(r.Errors) == 0, ToolExecutionNotifications: notes}},
			Results:     results,
			ColumnKind:  "unicodeCodePoints",
			Properties:  map[string]any{"mutated": r.Mutated},
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// pascal turns a rule ID into the PascalCase name SARIF viewers show:
// replicas-min → ReplicasMin.
func pascal(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func sarifMessage(o Object, v Violation) string {
	s := o.Ref() + ": " + v.Field + ": " + v.Body()
	if v.Message != "" {
		s += ": " + v.Message
	}
	if v.Fix != "" {
		s += "; fix: " + v.Fix
	}
	return s
}

// physical locates a line in a file. Relative paths become URIs relative to
// %SRCROOT%, absolute ones file:// URIs.
func physical(file string, line, column int) sarifPhysical {
	p := sarifPhysical{ArtifactLocation: artifact(file)}
	if line > 0 {
		p.Region = &sarifRegion{StartLine: line, StartColumn: column}
	}
	return p
}

func artifact(file string) sarifArtifact {
	slash := filepath.ToSlash(file)
	if filepath.IsAbs(file) {
		if !strings.HasPrefix(slash, "/") {
			slash = "/" + slash // C:/x → /C:/x
		}
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: slash}).String()}
	}
	slash = strings.TrimPrefix(slash, "./")
	return sarifArtifact{URI: (&url.URL{Path: slash}).String(), URIBaseID: srcRoot}
}
