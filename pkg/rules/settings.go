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

// word is one word of a container's command line: the index-th of its
// command, or of its args. Its path is built only when a finding names it:
// most command lines are read and found fine.
type word struct {
	text  string
	args  bool
	index int
}

func (w word) path(cPath *field.Path) *field.Path {
	if w.args {
		return cPath.Child("args").Index(w.index)
	}
	return cPath.Child("command").Index(w.index)
}

// commandLen is the number of words in command then args, as the kubelet runs them.
func commandLen(c *corev1.Container) int { return len(c.Command) + len(c.Args) }

// commandWord is the i-th word of command then args.
func commandWord(c *corev1.Container, i int) word {
	if i < len(c.Command) {
		return word{text: c.Command[i], index: i}
	}
	return word{text: c.Args[i-len(c.Command)], args: true, index: i - len(c.Command)}
}

// shellScript finds the script of a command line that runs a shell with -c
// (also in a group such as -ec, and behind env): "sh -c 'exec laminar …'".
// Only the command's own words can start a shell; args cannot, since an image's
// ENTRYPOINT, which this webhook never sees, runs before them.
func shellScript(c *corev1.Container) (word, bool) {
	i := 0
	if len(c.Command) > 0 && path.Base(c.Command[0]) == "env" {
		for i = 1; i < len(c.Command) && (strings.HasPrefix(c.Command[i], "-") || strings.Contains(c.Command[i], "=")); i++ {
		}
	}
	if i >= len(c.Command) || !shells[path.Base(c.Command[i])] {
		return word{}, false
	}
	n := commandLen(c)
	for j := i + 1; j < n; j++ {
		t := commandWord(c, j).text
		switch {
		case t == "-o" || t == "+o":
			j++ // the option's name
		case strings.HasPrefix(t, "+") && len(t) > 1:
		case !strings.HasPrefix(t, "-") || strings.HasPrefix(t, "--") || t == "-":
			return word{}, false
		case strings.ContainsRune(t[1:], 'c'):
			if j+1 < n {
				return commandWord(c, j+1), true
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
	scan := func(n int, text func(i int) string, at func(i int) *field.Path) {
		for i := range n {
			w := text(i)
			trimmed := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
			if trimmed == w {
				continue
			}
			switch {
			case trimmed == name:
				found, ok = flag{Path: at(i)}, true
				if takesValue && i+1 < n {
					found.Value, found.HasValue = text(i+1), true
				}
			case strings.HasPrefix(trimmed, name+"="):
				found, ok = flag{Value: strings.TrimPrefix(trimmed, name+"="), HasValue: true, Path: at(i)}, true
			}
		}
	}
	if script, isShell := shellScript(c); isShell {
		words := scriptWords(script.text)
		scan(len(words), func(i int) string { return words[i] }, func(int) *field.Path { return script.path(cPath) })
		found.Script = ok
		return found, ok
	}
	scan(commandLen(c), func(i int) string { return commandWord(c, i).text },
		func(i int) *field.Path { return commandWord(c, i).path(cPath) })
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
