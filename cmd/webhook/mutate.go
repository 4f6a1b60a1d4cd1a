package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/laminar/ha-webhook/pkg/offline"
	"github.com/laminar/ha-webhook/pkg/policy"
)

const mutateUsage = `Usage: laminar-ha-webhook mutate [flags] -f PATH [-f PATH ...] [PATH ...]

Prints the manifests as the mutating webhook would leave them: Laminar
Deployments and StatefulSets with the HA defaults filled in, every other
document unchanged, in input order, separated by ---. PATH is a file, a
directory (every .yaml, .yml and .json file under it) or - for standard input.

Exit status: 0 done, 2 bad usage or an input that could not be read (such a
document is printed unchanged).

Flags:
`

// mutateCmd runs the mutate command.
func mutateCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("mutate", mutateUsage, stderr)
	var in inputFlags
	in.register(fs)
	if err := parseArgs(fs, &in, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	p, err := policy.Load(in.policy)
	if err != nil {
		fmt.Fprintln(stderr, "mutate: policy:", err)
		return exitUsage
	}
	_, errs, err := offline.Mutate(stdout, offline.Read(in.paths, stdin, in.stdinName), in.options(p))
	for _, e := range errs {
		fmt.Fprintln(stderr, "error:", e.String())
	}
	if err != nil {
		fmt.Fprintln(stderr, "mutate: write output:", err)
		return exitUsage
	}
	if len(errs) > 0 {
		return exitUsage
	}
	return exitOK
}
