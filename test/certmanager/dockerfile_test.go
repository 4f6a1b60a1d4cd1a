package certmanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
)

// dockerfile is a parsed Dockerfile: logical instructions (continuations
// joined, comments dropped) and the ARG/ENV defaults in scope.
type dockerfile struct {
	Instructions []dockerInstruction
}

type dockerInstruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string // the rest of the logical line
	Line int    // first physical line, 1-based
}

func readDockerfile(path string) (*dockerfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			// Blank and comment lines end nothing: they may sit inside a continuation.
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		logical := cur.String()
		cur.Reset()
		cmd, rest, _ := strings.Cut(logical, " ")
		df.Instructions = append(df.Instructions, dockerInstruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(rest), Line: start})
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("%s: unterminated continuation at line %d", path, start)
	}
	return df, nil
}

// stages splits the instructions at each FROM.
func (df *dockerfile) stages() [][]dockerInstruction {
	var out [][]dockerInstruction
	for _, in := range df.Instructions {
		if in.Cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

// dockerBuild is the Dockerfile's `go build` command.
type dockerBuild struct {
	Env    map[string]string // assignments before `go`
	Args   []string          // after `go`, -o target included
	Output string            // the -o value in the Dockerfile
	Line   int
}

var (
	argLine   = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$`)
	runOption = regexp.MustCompile(`^--(mount|network|security)=\S*\s*`)
)

// parseDockerfileBuild finds the one RUN instruction that runs `go build` and
// returns the command, with ARG defaults substituted. BuildKit's TARGETOS and
// TARGETARCH become this machine's, as for a native build.
func parseDockerfileBuild(path string) (*dockerBuild, error) {
	df, err := readDockerfile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH, "BUILDPLATFORM": runtime.GOOS + "/" + runtime.GOARCH}
	var found *dockerBuild
	for _, in := range df.Instructions {
		switch in.Cmd {
		case "ARG":
			for _, a := range strings.Fields(in.Args) {
				m := argLine.FindStringSubmatch(a)
				if m == nil {
					return nil, fmt.Errorf("%s:%d: cannot read ARG %q", path, in.Line, a)
				}
				if _, set := vars[m[1]]; !set || m[2] != "" {
					vars[m[1]] = strings.Trim(m[2], `"`)
				}
			}
		case "RUN":
			if !strings.Contains(in.Args, "go build") {
				continue
			}
			if found != nil {
				return nil, fmt.Errorf("%s: two RUN instructions run go build (lines %d and %d); keep one", path, found.Line, in.Line)
			}
			cmdline := in.Args
			for {
				loc := runOption.FindStringIndex(cmdline)
				if loc == nil || loc[0] != 0 {
					break
				}
				cmdline = cmdline[loc[1]:]
			}
			words, err := shellWords(cmdline, vars)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, in.Line, err)
			}
			b := &dockerBuild{Env: map[string]string{}, Line: in.Line}
			i := 0
			for ; i < len(words); i++ {
				m := argLine.FindStringSubmatch(words[i])
				if m == nil || !strings.Contains(words[i], "=") {
					break
				}
				b.Env[m[1]] = m[2]
			}
			if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
				return nil, fmt.Errorf("%s:%d: want `[VAR=value...] go build ...` as the whole RUN command, got %q", path, in.Line, cmdline)
			}
			b.Args = words[i+1:]
			for j, w := range b.Args {
				if w == "-o" && j+1 < len(b.Args) {
					b.Output = b.Args[j+1]
				}
			}
			if b.Output == "" {
				return nil, fmt.Errorf("%s:%d: go build has no -o", path, in.Line)
			}
			found = b
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s: no RUN instruction runs go build", path)
	}
	return found, nil
}

// shellWords splits a POSIX shell command line: quotes, backslash escapes and
// $VAR / ${VAR} expansion. Anything else a shell would interpret (; && | $( ` …)
// is refused, so the Dockerfile's build step stays one plain command.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(i int) (string, int, error) { // s[i] == '$'
		j := i + 1
		if j < len(s) && s[j] == '{' {
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return "", 0, errors.New("unterminated ${")
			}
			name := s[j+1 : j+end]
			if !argLine.MatchString(name) || strings.Contains(name, "=") {
				return "", 0, fmt.Errorf("unsupported expansion ${%s}", name)
			}
			v, ok := vars[name]
			if !ok {
				return "", 0, fmt.Errorf("${%s} is not an ARG", name)
			}
			return v, j + end + 1, nil
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || k > j && s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j {
			return "", 0, fmt.Errorf("unsupported $ at %d", i)
		}
		v, ok := vars[s[j:k]]
		if !ok {
			return "", 0, fmt.Errorf("$%s is not an ARG", s[j:k])
		}
		return v, k, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated '")
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, errors.New(`unterminated "`)
				}
				if s[i] == '"' {
					i++
					break
				}
				switch s[i] {
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
						cur.WriteByte(s[i+1])
						i += 2
						continue
					}
					cur.WriteByte('\\')
					i++
				case '$':
					v, next, err := expand(i)
					if err != nil {
						return nil, err
					}
					cur.WriteString(v)
					i = next
				case '`':
					return nil, errors.New("command substitution is not supported")
				default:
					cur.WriteByte(s[i])
					i++
				}
			}
		case c == '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
			}
			inWord = true
			i += 2
		case c == '$':
			v, next, err := expand(i)
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			inWord = true
			i = next
		case strings.IndexByte(";&|<>`()", c) >= 0:
			return nil, fmt.Errorf("shell operator %q: keep the build step one plain command", c)
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// run executes the build on this machine, writing the binary to out.
func (b *dockerBuild) run(ctx context.Context, root, out string) error {
	args := append([]string(nil), b.Args...)
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	env := os.Environ()
	for k, v := range b.Env {
		if v == "" {
			continue // e.g. GOOS= : the toolchain's default
		}
		env = append(env, k+"="+v)
	}
	_, stderr, err := runCmd(ctx, root, nil, env, "go", args...)
	if err != nil {
		return fmt.Errorf("go %s (the Dockerfile's build, line %d): %w\n%s", strings.Join(args, " "), b.Line, err, stderr)
	}
	return nil
}

// ldflags is the value of -ldflags (either -ldflags=X or -ldflags X).
func (b *dockerBuild) flag(name string) (string, bool) {
	for i, a := range b.Args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(b.Args) {
			return b.Args[i+1], true
		}
	}
	return "", false
}

func runCmd(ctx context.Context, dir string, stdin io.Reader, env []string, name string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), err
}
