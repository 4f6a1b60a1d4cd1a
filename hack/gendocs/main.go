// Command gendocs prints docs/rules.md from the rule catalog (make docs).
package main

import (
	"os"

	"github.com/laminar/ha-webhook/internal/ruledocs"
)

func main() {
	if _, err := os.Stdout.Write(ruledocs.Markdown(nil)); err != nil {
		os.Exit(1)
	}
}
