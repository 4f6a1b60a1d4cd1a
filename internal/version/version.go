// Package version carries build identity, set with -ldflags at release time.
package version

// Version is overwritten by -ldflags "-X github.com/laminar/ha-webhook/internal/version.Version=…".
var Version = "dev"
