package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/laminar/ha-webhook/internal/version"
	"github.com/laminar/ha-webhook/pkg/audit"
	"github.com/laminar/ha-webhook/pkg/cluster"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
)

const auditUsage = `Usage: laminar-ha-webhook audit [--kubeconfig FILE] (-n NAMESPACE | -A) [flags]

Judges the Laminar workloads a cluster stores, with their budgets and
autoscalers, as the webhook's background audit does, and prints them as check
does. Each namespace is judged in its own enforcement mode (off: listed as on
warn); --mode deny previews what would be refused if it switched to deny.

Exit status: 0 nothing denied, 1 something denied, 2 bad usage, a policy that
cannot be used or a cluster that cannot be read.

Flags:
`

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", auditUsage, stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig; default: in-cluster, else $KUBECONFIG")
	namespace := fs.String("n", "", "namespace to audit (also --namespace)")
	fs.StringVar(namespace, "namespace", "", "same as -n")
	all := fs.Bool("A", false, "audit every namespace (also --all-namespaces)")
	fs.BoolVar(all, "all-namespaces", false, "same as -A")
	mode := fs.String("mode", "", "judge every namespace as if its enforcement were deny or warn")
	policyPath := fs.String("policy", "", "policy file (YAML); empty uses the HA guide's defaults")
	output := fs.String("o", "text", "output format: text, json or sarif (also --output)")
	fs.StringVar(output, "output", "text", "same as -o")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "audit takes no arguments, got %q\n", fs.Args())
		return exitUsage
	case *all == (*namespace != ""):
		fmt.Fprintln(stderr, "audit: give one of -n NAMESPACE and -A")
		return exitUsage
	case *mode != "" && *mode != policy.ModeDeny && *mode != policy.ModeWarn:
		fmt.Fprintf(stderr, "audit: --mode: want deny or warn, got %q\n", *mode)
		return exitUsage
	}
	render, ok := map[string]func(io.Writer, *report.Report) error{"text": report.Text, "json": report.JSON, "sarif": report.SARIF}[*output]
	if !ok {
		fmt.Fprintf(stderr, "audit: -o: want text, json or sarif, got %q\n", *output)
		return exitUsage
	}
	p, err := policy.Load(*policyPath)
	if err != nil {
		fmt.Fprintln(stderr, "audit: policy:", err)
		return exitUsage
	}
	cfg, found, err := cluster.Config(*kubeconfig)
	if err == nil && !found {
		err = errors.New("no cluster: give --kubeconfig or set $KUBECONFIG")
	}
	if err != nil {
		fmt.Fprintln(stderr, "audit:", err)
		return exitUsage
	}
	c, err := cluster.NewWriter(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "audit:", err)
		return exitUsage
	}
	rep, err := audit.Live(ctx, c, audit.LiveOptions{Namespace: *namespace, Mode: *mode, Policy: p, Now: time.Now(),
		Tool: report.Tool{Name: "laminar-ha-webhook audit", Version: version.Version}})
	if err != nil {
		fmt.Fprintln(stderr, "audit:", err)
		return exitUsage
	}
	if err := render(stdout, rep); err != nil {
		fmt.Fprintln(stderr, "audit: write output:", err)
		return exitUsage
	}
	if rep.Summary.Denials > 0 {
		return exitFail
	}
	return exitOK
}
