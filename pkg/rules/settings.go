package rules

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/laminar/ha-webhook/pkg/policy"
)

// The controller's settings are read where the policy's controller.settings
// says: a flag, else an environment variable. The names are this project's
// assumption about the Laminar binary (the guide gives Helm values only).

// flag is a command-line flag found in a container's command or args.
type flag struct {
	Value    string
	HasValue bool // false for a bare boolean "--name"
	Path     *field.Path
	// Script is set when the flag was read as text from a shell script
	// (sh -c "…"): the shell may never pass it to the binary as written.
	Script bool
}

// shells are the programs whose -c runs a script: the words after it are the
// script's positional parameters, never the binary's flags.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// word is one word of a container's command line, with its path.
type word struct {
	text string
	path *field.Path
}

// commandLine is command then args, as the kubelet runs them.
func commandLine(c *corev1.Container, cPath *field.Path) []word {
	out := make([]word, 0, len(c.Command)+len(c.Args))
	for i, w := range c.Command {
		out = append(out, word{w, cPath.Child("command").Index(i)})
	}
	for i, w := range c.Args {
		out = append(out, word{w, cPath.Child("args").Index(i)})
	}
	return out
}

// shellScript finds the script of a command line that runs a shell with -c
// (also in a group such as -ec, and behind env): "sh -c 'exec laminar …'".
// Only the command's own words can start a shell; args cannot, since an image's
// ENTRYPOINT, which this webhook never sees, runs before them.
func shellScript(c *corev1.Container, cPath *field.Path) (word, bool) {
	words := commandLine(c, cPath)
	i := 0
	if len(c.Command) > 0 && path.Base(c.Command[0]) == "env" {
		for i = 1; i < len(c.Command) && (strings.HasPrefix(c.Command[i], "-") || strings.Contains(c.Command[i], "=")); i++ {
		}
	}
	if i >= len(c.Command) || !shells[path.Base(c.Command[i])] {
		return word{}, false
	}
	for j := i + 1; j < len(words); j++ {
		t := words[j].text
		switch {
		case t == "-o" || t == "+o":
			j++ // the option's name
		case strings.HasPrefix(t, "+") && len(t) > 1:
		case !strings.HasPrefix(t, "-") || strings.HasPrefix(t, "--") || t == "-":
			return word{}, false
		case strings.ContainsRune(t[1:], 'c'):
			if j+1 < len(words) {
				return words[j+1], true
			}
			return word{}, false
		}
	}
	return word{}, false
}

// scriptWords splits a shell script into words, best effort: at blanks and
// statement separators, quotes dropped. No expansion is done, so what it finds
// is what the script text says, not what the binary is certain to get.
func scriptWords(script string) []string {
	fields := strings.FieldsFunc(script, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == ';' || r == '&' || r == '|'
	})
	for i, f := range fields {
		fields[i] = strings.NewReplacer(`"`, "", `'`, "", `\`, "").Replace(f)
	}
	return fields
}

// findFlag looks for --name or -name, as "--name=value", "--name value" or a bare
// "--name", in command then args; the last occurrence wins, as with Go's flag package.
// A value is only taken from the next word when takesValue is set, because Go's flag
// package never does that for booleans. In a shell-wrapped command the words
// are the script's: the flag is looked for in the script's text instead, and
// marked as read from a script.
func findFlag(c *corev1.Container, cPath *field.Path, name string, takesValue bool) (flag, bool) {
	var found flag
	ok := false
	scan := func(words []string, at func(i int) *field.Path) {
		for i, w := range words {
			trimmed := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
			if trimmed == w {
				continue
			}
			switch {
			case trimmed == name:
				found, ok = flag{Path: at(i)}, true
				if takesValue && i+1 < len(words) {
					found.Value, found.HasValue = words[i+1], true
				}
			case strings.HasPrefix(trimmed, name+"="):
				found, ok = flag{Value: strings.TrimPrefix(trimmed, name+"="), HasValue: true, Path: at(i)}, true
			}
		}
	}
	if script, isShell := shellScript(c, cPath); isShell {
		scan(scriptWords(script.text), func(int) *field.Path { return script.path })
		found.Script = ok
		return found, ok
	}
	words := commandLine(c, cPath)
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = w.text
	}
	scan(texts, func(i int) *field.Path { return words[i].path })
	return found, ok
}

// boolFlagValue reads a boolean flag the way Go's flag package does: a bare flag is true.
func boolFlagValue(f flag) (value, valid bool) {
	if !f.HasValue {
		return true, true
	}
	switch strings.ToLower(f.Value) {
	case "1", "t", "true":
		return true, true
	case "0", "f", "false":
		return false, true
	}
	return false, false
}

// setting is a value read from a flag or, failing that, an environment variable.
type setting struct {
	flag
	// Env is set when the value comes from the environment variable.
	Env bool
	// FromRef is set when the env var comes from a Secret or ConfigMap this
	// webhook cannot read.
	FromRef bool
}

// findSetting returns a flag's value, else the env var's, else ok=false: a
// flag the user gives wins, as the binary is assumed to read them. Variables
// from envFrom are not read: the webhook cannot see the ConfigMap or Secret.
func findSetting(c *corev1.Container, cPath *field.Path, s policy.Setting, takesValue bool) (setting, bool) {
	if f, ok := findFlag(c, cPath, s.Flag, takesValue); ok {
		return setting{flag: f}, true
	}
	i, ok := findEnv(c, s.Env)
	if !ok {
		return setting{}, false
	}
	e, p := c.Env[i], cPath.Child("env").Index(i)
	if e.ValueFrom != nil {
		return setting{flag: flag{Path: p.Child("valueFrom")}, Env: true, FromRef: true}, true
	}
	return setting{flag: flag{Value: e.Value, HasValue: true, Path: p.Child("value")}, Env: true}, true
}

// findEnv is the index of the last env entry named name: the kubelet keeps the
// last of duplicates.
func findEnv(c *corev1.Container, name string) (int, bool) {
	for i := len(c.Env) - 1; i >= 0; i-- {
		if c.Env[i].Name == name {
			return i, true
		}
	}
	return 0, false
}

// shown is how a setting is named in a message: the flag as written, or the
// variable's value (the path names the variable).
func (s setting) shown(flagName string) string {
	if s.Env {
		return s.Value
	}
	return "--" + flagName + "=" + s.Value
}
