package main

import (
	"time"

	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/laminar/ha-webhook/pkg/offline"
	"github.com/laminar/ha-webhook/pkg/policy"
	"github.com/laminar/ha-webhook/pkg/report"
)

const checkUsage = `Usage: laminar-ha-webhook check [flags] -f PATH [-f PATH ...] [PATH ...]

Judges Laminar Deployments and StatefulSets in manifests the way the webhook
would in a cluster: mutation first, then validation. PATH is a file, a
directory (every .yaml, .yml and .json file under it) or - for standard input.

Exit status: 0 no denial (warnings alone pass), 1 at least one denial,
2 bad usage or an input that could not be read (wins over 1).

Flags:
`

// pathList collects repeated -f flags.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

// inputFlags are the flags check and mutate share.
type inputFlags struct {
	paths     pathList
	policy    string
	stdinName string
	trustNS   bool
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.paths, "f", "manifest file, directory or - for stdin (repeatable; also --filename)")
	fs.Var(&f.paths, "filename", "same as -f")
	fs.StringVar(&f.policy, "policy", "", "policy file (YAML), the one the server reads; empty uses the HA guide's defaults")
	fs.StringVar(&f.stdinName, "stdin-name", offline.StdinName, "name of standard input in output (e.g. the path it was rendered from)")
	fs.BoolVar(&f.trustNS, "trust-namespace-labels", false,
		"honour ha.laminar.io/enforce and ha.laminar.io/mutate on Namespace objects in the input (off: in CI the input is untrusted)")
}

// options are the offline engine's options the shared flags set.
func (f *inputFlags) options(p *policy.Policy) offline.Options {
	return offline.Options{Policy: p, Clock: time.Now, TrustNamespaceLabels: f.trustNS}
}

// parseArgs parses flags and paths, which may come in any order.
func parseArgs(fs *flag.FlagSet, f *inputFlags, args []string) error {
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		f.paths = append(f.paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(f.paths) == 0 {
		fmt.Fprintf(fs.Output(), "%s: no input: give -f PATH (a file, a directory, or - for stdin)\n", fs.Name())
		return errNoInput
	}
	return nil
}

// errNoInput is a usage error parseArgs has already reported.
var errNoInput = errors.New("no input")

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// check runs the check command.
func check(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", checkUsage, stderr)
	var in inputFlags
	in.register(fs)
	output := "text"
	fs.StringVar(&output, "o", "text", "output format: text, json or sarif (also --output)")
	fs.StringVar(&output, "output", "text", "same as -o")
	noMutate := fs.Bool("no-mutate", false, "judge objects as written, without the webhook's defaults")
	if err := parseArgs(fs, &in, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	var render func(io.Writer, *report.Report) error
	switch output {
	case "text":
		render = report.Text
	case "json":
		render = report.JSON
	case "sarif":
		render = report.SARIF
	default:
		fmt.Fprintf(stderr, "check: -o: want text, json or sarif, got %q\n", output)
		return exitUsage
	}
	p, err := policy.Load(in.policy)
	if err != nil {
		fmt.Fprintln(stderr, "check: policy:", err)
		return exitUsage
	}

	opts := in.options(p)
	opts.AsWritten = *noMutate
	rep := offline.Check(offline.Read(in.paths, stdin, in.stdinName), opts)
	for _, e := range rep.Errors {
		fmt.Fprintln(stderr, "error:", e.String())
	}
	if err := render(stdout, rep); err != nil {
		fmt.Fprintln(stderr, "check: write output:", err)
		return exitUsage
	}
	switch {
	case rep.Summary.Errors > 0:
		return exitUsage
	case rep.Summary.Denials > 0:
		return exitFail
	}
	return exitOK
}
