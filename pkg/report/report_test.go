package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/laminar/ha-webhook/pkg/report"
	"github.com/laminar/ha-webhook/pkg/rules"
)

func sample() *report.Report {
	r := report.New(report.Tool{Name: "laminar-ha-webhook", Version: "v9"}, true)
	r.Summary.Files, r.Summary.Documents = 2, 3
	r.AddObject(report.Object{
		File: "a.yaml", Document: 2, Line: 10, Column: 1, Source: "chart/templates/api.yaml",
		APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns", Name: "api", Role: "api", Enforce: "deny", Mutate: "on",
		Exemption: &report.Exemption{Rules: []string{"api-zone-spread"}, Reason: "one zone in dev"},
		Violations: []report.Violation{
			{RuleID: "replicas-min", Action: report.ActionDeny, Outcome: report.OutcomeDeny, Field: "spec.replicas", Reason: "FieldValueInvalid",
				Value: json.RawMessage("1"), Message: "too few", Fix: "set 2", Line: 12, Column: 3},
			{RuleID: "pdb-missing", Action: report.ActionWarn, Outcome: report.OutcomeWarn, Field: "spec.template.metadata.labels", Reason: "FieldValueRequired",
				Message: "add one", Line: 11, Column: 3},
			{RuleID: "api-strategy-rolling", Action: report.ActionDeny, Outcome: report.OutcomeDeny, Field: "spec.strategy.type", Reason: "FieldValueInvalid",
				Value: json.RawMessage(`"Recreate"`), Message: "outage", Line: 14, Column: 5},
			{RuleID: "api-zone-spread", Action: report.ActionDeny, Outcome: report.OutcomeExempt, Field: "spec.template.spec.topologySpreadConstraints",
				Reason: "FieldValueRequired", Message: "no spread", Line: 16, Column: 7},
		},
	})
	r.AddObject(report.Object{File: "/abs/b.yaml", Document: 1, Item: 2, Line: 4, Column: 5,
		APIVersion: "apps/v1", Kind: "StatefulSet", Name: "ctl", Role: "controller", Enforce: "warn", Mutate: "off",
		Notes: []string{"namespace label x is odd"},
		Violations: []report.Violation{
			{RuleID: "replicas-min", Action: report.ActionDeny, Outcome: report.OutcomeAudit, Field: "spec.replicas", Reason: "FieldValueInvalid",
				Value: json.RawMessage("1"), Message: "too few", Line: 6, Column: 3},
		}})
	r.AddError(report.InputError{File: "<stdin>", Document: 3, Line: 40, Message: "not YAML"})
	return r
}

func TestAddObjectCounts(t *testing.T) {
	r := sample()
	assert.Equal(t, report.Summary{Files: 2, Documents: 3, Objects: 2, Denied: 1, Denials: 2, Warnings: 2, Exempted: 1, Errors: 1}, r.Summary)
	require.Len(t, r.Objects, 2)
	assert.False(t, r.Objects[0].Allowed)
	assert.True(t, r.Objects[1].Allowed, "an audited deny rule admits")
	assert.NotNil(t, r.Objects[1].DefaultsApplied, "an empty list, never null")
	r.AddObject(report.Object{})
	require.Len(t, r.Objects, 3)
	assert.NotNil(t, r.Objects[2].Violations, "an empty list, never null")
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.Text(&b, sample()))
	assert.Equal(t, `a.yaml:10: document 2: Deployment ns/api (helm: chart/templates/api.yaml): denied
  DENY [replicas-min] spec.replicas (line 12): Invalid value: 1
       too few
       fix: set 2
  WARN [pdb-missing] spec.template.metadata.labels (line 11): Required value
       add one
  DENY [api-strategy-rolling] spec.strategy.type (line 14): Invalid value: "Recreate"
       outage
  EXEMPT [api-zone-spread] spec.template.spec.topologySpreadConstraints (line 16): Required value
       no spread
       (exempted by annotation: one zone in dev)
/abs/b.yaml:4: document 1, item 2: StatefulSet ctl: allowed with warnings
  note: namespace label x is odd
  AUDIT [replicas-min] spec.replicas (line 6): Invalid value: 1
       too few
       (enforcement is warn here: the webhook would admit it with a warning)

2 inputs, 3 documents, 2 Laminar objects judged after mutation: 1 denied (2 denials), 2 warnings, 1 exempted, 1 input error.
`, b.String())

	b.Reset()
	require.NoError(t, report.Text(&b, report.New(report.Tool{}, false)))
	assert.Equal(t, "0 inputs, 0 documents, 0 Laminar objects judged as written: 0 denied (0 denials), 0 warnings, 0 input errors.\n", b.String())
}

func TestInputErrorString(t *testing.T) {
	assert.Equal(t, "<stdin>:40: document 3: not YAML", report.InputError{File: "<stdin>", Document: 3, Line: 40, Message: "not YAML"}.String())
	assert.Equal(t, "x.yaml: document 1, item 4: bad", report.InputError{File: "x.yaml", Document: 1, Item: 4, Message: "bad"}.String())
	assert.Equal(t, "dir: no such file or directory", report.InputError{File: "dir", Message: "no such file or directory"}.String())
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.JSON(&b, report.New(report.Tool{Name: "t", Version: "1"}, true)))
	assert.JSONEq(t, `{"schemaVersion": 1, "tool": {"name": "t", "version": "1"}, "mutated": true,
		"summary": {"files": 0, "documents": 0, "objects": 0, "denied": 0, "denials": 0, "warnings": 0, "exempted": 0, "errors": 0},
		"objects": [], "errors": []}`, b.String())

	b.Reset()
	require.NoError(t, report.JSON(&b, sample()))
	var back report.Report
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, *sample(), back, "the JSON form is the Report type")
}

// sarifLog is the part of SARIF the test reads.
type sarifLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name, Version string
				Rules         []struct {
					ID                   string `json:"id"`
					Name                 string `json:"name"`
					ShortDescription     struct{ Text string }
					DefaultConfiguration struct{ Level string }
				} `json:"rules"`
			}
		}
		Invocations []struct {
			ExecutionSuccessful        bool
			ToolExecutionNotifications []struct {
				Level   string
				Message struct{ Text string }
			}
		}
		Results []struct {
			Suppressions []sarifSuppression
			RuleID       string `json:"ruleId"`
			RuleIndex    int
			Level        string
			Message      struct{ Text string }
			Locations    []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					}
					Region struct{ StartLine, StartColumn int }
				}
			}
		}
	}
}

type sarifSuppression struct{ Kind, Status, Justification string }

func TestSARIF(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.SARIF(&b, sample()))
	var log sarifLog
	require.NoError(t, json.Unmarshal(b.Bytes(), &log))
	assert.Equal(t, "2.1.0", log.Version)
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	assert.Equal(t, "laminar-ha-webhook", run.Tool.Driver.Name)
	assert.Equal(t, "v9", run.Tool.Driver.Version)

	// Every check of the catalog is a rule, with its summary and level; defaults are not.
	var checks []rules.Description
	for _, entry := range rules.All() {
		if r := entry.Describe(); r.Action != rules.ActionDefault {
			checks = append(checks, r)
		}
	}
	require.Len(t, run.Tool.Driver.Rules, len(checks))
	for i, r := range checks {
		got := run.Tool.Driver.Rules[i]
		assert.Equal(t, r.ID, got.ID)
		assert.Equal(t, r.Summary, got.ShortDescription.Text)
		want := "warning"
		if r.Action == rules.ActionDeny {
			want = "error"
		}
		assert.Equal(t, want, got.DefaultConfiguration.Level, r.ID)
	}
	assert.Equal(t, "ReplicasMin", run.Tool.Driver.Rules[0].Name)

	require.Len(t, run.Results, 5)
	for _, res := range run.Results {
		require.Less(t, res.RuleIndex, len(run.Tool.Driver.Rules), "ruleIndex is in range")
		assert.Equal(t, res.RuleID, run.Tool.Driver.Rules[res.RuleIndex].ID, "ruleIndex points at the rule")
	}
	first := run.Results[0]
	require.NotEmpty(t, first.Locations)
	assert.Equal(t, "error", first.Level)
	assert.Equal(t, `Deployment ns/api: spec.replicas: Invalid value: 1: too few; fix: set 2`, first.Message.Text)
	loc := first.Locations[0].PhysicalLocation
	assert.Equal(t, "a.yaml", loc.ArtifactLocation.URI)
	assert.Equal(t, "%SRCROOT%", loc.ArtifactLocation.URIBaseID)
	assert.Equal(t, 12, loc.Region.StartLine)
	assert.Equal(t, 3, loc.Region.StartColumn)
	assert.Equal(t, "warning", run.Results[1].Level)
	assert.Equal(t, "error", run.Results[3].Level, "an exempted result keeps its rule's level")
	assert.Equal(t, []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: "one zone in dev"}}, run.Results[3].Suppressions)
	assert.Empty(t, run.Results[0].Suppressions)
	assert.Equal(t, "warning", run.Results[4].Level, "an audited deny is a warning")

	require.Len(t, run.Invocations, 1)
	inv := run.Invocations[0]
	assert.False(t, inv.ExecutionSuccessful)
	require.Len(t, inv.ToolExecutionNotifications, 1)
	assert.Equal(t, "<stdin>:40: document 3: not YAML", inv.ToolExecutionNotifications[0].Message.Text)
	assert.Contains(t, b.String(), `"uri": "%3Cstdin%3E"`)
}

func TestSARIFAbsolutePath(t *testing.T) {
	r := report.New(report.Tool{}, true)
	r.AddObject(report.Object{File: "/work/my repo/a.yaml", Line: 1, Violations: []report.Violation{{RuleID: "replicas-min", Action: report.ActionDeny, Line: 3}}})
	var b bytes.Buffer
	require.NoError(t, report.SARIF(&b, r))
	var log sarifLog
	require.NoError(t, json.Unmarshal(b.Bytes(), &log))
	loc := log.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation
	assert.Equal(t, "file:///work/my%20repo/a.yaml", loc.URI)
	assert.Empty(t, loc.URIBaseID)
}
