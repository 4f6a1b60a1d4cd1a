// Package offline runs the webhook's engine over manifests on disk or standard
// input, for `laminar-ha-webhook check` and `laminar-ha-webhook mutate`: the same
// mutate and validate calls the admission handlers make, so a pull request and
// the cluster reach the same verdict.
package offline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StdinName is how standard input is named in output unless the caller says otherwise.
const StdinName = "<stdin>"

// Source is one input: a file's or standard input's bytes.
type Source struct {
	// Name is the path as given, or found under a given directory; standard input's name for "-".
	Name string
	Data []byte
	// Err is set when the input could not be read; Data is then empty.
	Err error
}

// Extensions a directory walk picks up (case-insensitive).
var Extensions = []string{".yaml", ".yml", ".json"}

// Read reads the given paths in order: a file (any extension), a directory
// (every .yaml, .yml and .json file under it, recursively, in lexical order,
// skipping directories whose names start with a dot), or "-" for stdin. An
// unreadable path becomes a Source with Err, in its place, so it is reported in
// input order and does not stop the others. stdinName names standard input
// ("" means StdinName).
func Read(paths []string, stdin io.Reader, stdinName string) []Source {
	if stdinName == "" {
		stdinName = StdinName
	}
	var out []Source
	stdinRead := false
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				out = append(out, Source{Name: stdinName, Err: errors.New("standard input given more than once")})
				continue
			}
			stdinRead = true
			data, err := io.ReadAll(stdin)
			out = append(out, Source{Name: stdinName, Data: data, Err: err})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			out = append(out, Source{Name: p, Err: unwrapPath(err)})
			continue
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			out = append(out, Source{Name: p, Data: data, Err: unwrapPath(err)})
			continue
		}
		found := 0
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				out = append(out, Source{Name: path, Err: unwrapPath(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !hasExtension(path) {
				return nil
			}
			found++
			data, err := os.ReadFile(path)
			out = append(out, Source{Name: path, Data: data, Err: unwrapPath(err)})
			return nil
		})
		if err != nil {
			out = append(out, Source{Name: p, Err: err})
		} else if found == 0 {
			out = append(out, Source{Name: p, Err: fmt.Errorf("directory holds no %s file", strings.Join(Extensions, ", "))})
		}
	}
	return out
}

func hasExtension(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// unwrapPath drops the "open PATH:" prefix of a *fs.PathError: output names the
// file already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
