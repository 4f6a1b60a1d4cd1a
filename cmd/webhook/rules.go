package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/laminar/ha-webhook/internal/ruledocs"
	"github.com/laminar/ha-webhook/pkg/policy"
)

const rulesUsage = `Usage: laminar-ha-webhook rules [--policy FILE] [-o text|markdown]

Lists every rule with the action in force under the policy: the catalog's,
or the one the policy's rules map sets ("audit (catalog: deny)"). Markdown is
the layout of docs/rules.md, which is this command's output for the defaults.

Exit status: 0 done, 2 bad usage or a policy that cannot be used.

Flags:
`

// rulesCmd runs the rules command.
func rulesCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", rulesUsage, stderr)
	policyPath := fs.String("policy", "", "policy file (YAML); empty uses the HA guide's defaults")
	output := fs.String("o", "text", "output: text or markdown")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rules takes no arguments, got %q\n", fs.Args())
		return exitUsage
	}
	p, err := policy.Load(*policyPath)
	if err != nil {
		fmt.Fprintln(stderr, "rules: policy:", err)
		return exitUsage
	}
	switch *output {
	case "text":
		err = ruledocs.Text(stdout, p)
	case "markdown":
		_, err = stdout.Write(ruledocs.Markdown(p))
	default:
		fmt.Fprintf(stderr, "rules: -o must be text or markdown, got %q\n", *output)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, "rules: write output:", err)
		return exitUsage
	}
	return exitOK
}
