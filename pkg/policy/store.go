package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"sync/atomic"
	"time"
)

// Store holds the policy in force and swaps it when the file changes. A reader
// always gets a whole, validated policy; an invalid new file never replaces a good one.
type Store struct {
	path    string
	current atomic.Pointer[Policy]
	sum     [sha256.Size]byte
}

// NewStore loads path (empty: the defaults, never reloaded).
func NewStore(path string) (*Store, error) {
	s := &Store{path: path}
	if path == "" {
		s.current.Store(Default())
		return s, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, err
	}
	s.current.Store(p)
	s.sum = sha256.Sum256(data)
	return s, nil
}

// Current is the policy in force.
func (s *Store) Current() *Policy { return s.current.Load() }

// ReloadResult says what one look at the file found.
type ReloadResult struct {
	Changed bool  // the file's content changed since the last look
	Err     error // the new content is unreadable or invalid; the old policy stays
}

// Reload reads the file again and, when its content changed and is valid, puts it
// in force. Polling the content, rather than watching inode events, follows the
// symlink swap a kubelet makes when it updates a ConfigMap volume.
func (s *Store) Reload() ReloadResult {
	if s.path == "" {
		return ReloadResult{}
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		// Remember the failure like content, so it is reported once, not every tick.
		data = []byte("unreadable: " + err.Error())
	}
	sum := sha256.Sum256(data)
	if bytes.Equal(sum[:], s.sum[:]) {
		return ReloadResult{}
	}
	s.sum = sum
	if err != nil {
		return ReloadResult{Changed: true, Err: err}
	}
	p, err := Parse(data)
	if err != nil {
		return ReloadResult{Changed: true, Err: err}
	}
	s.current.Store(p)
	return ReloadResult{Changed: true}
}

// Watch calls Reload every interval until ctx ends and reports each change.
func (s *Store) Watch(ctx context.Context, interval time.Duration, report func(ReloadResult)) {
	if s.path == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if r := s.Reload(); r.Changed {
				report(r)
			}
		}
	}
}
