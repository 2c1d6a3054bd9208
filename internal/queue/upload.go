package queue

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fbs/internal/farm"
	"fbs/internal/publish"
	"fbs/internal/store"
)

// Errors of the uploads, for errors.Is and errors.As.
var (
	ErrMissing  = errors.New("not uploaded, or not in full")
	ErrMismatch = errors.New("the upload does not match its size or sha256")
	ErrExists   = errors.New("an artifact of that name with other content exists")
	ErrName     = errors.New("a plain file name is needed")
)

func marshal(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}

// checkName keeps artifact names to plain file names.
func checkName(name string) error {
	if name == "" || len(name) > 255 || name != filepath.Base(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "\x00/\\") {
		return fmt.Errorf("artifact name %q: %w", name, ErrName)
	}
	return nil
}

// AppendLog adds data, which the worker had at offset of the server's
// log, and returns the log's size. Resent data is taken once.
func (s *Service) AppendLog(ctx context.Context, l *store.Lease, offset int64, data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Store.Holds(ctx, l); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(LogPath(s.Data, l.BuildID), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	switch {
	case offset > size:
		return size, &farm.GapError{Size: size}
	case offset+int64(len(data)) <= size:
		return size, nil // had it
	}
	n, err := f.WriteAt(data[size-offset:], size)
	return size + int64(n), err
}

// PutArtifact takes an artifact's upload: it lands under a temporary
// name, is checked against size and sha256, and only then takes its name,
// which it never takes from another file.
func (s *Service) PutArtifact(ctx context.Context, l *store.Lease, name string, size int64, sum string, r io.Reader) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := s.Store.Holds(ctx, l); err != nil {
		return err
	}
	dir := filepath.Join(Dir(s.Data, l.BuildID), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rnd := make([]byte, 4)
	rand.Read(rnd)
	tmp := filepath.Join(dir, "."+name+"."+hex.EncodeToString(rnd)+".part")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("artifact %s: %w", name, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if n != size || !strings.EqualFold(got, sum) {
		return fmt.Errorf("artifact %s: %d bytes with sha256 %s, announced %d and %s: %w", name, n, got, size, sum, ErrMismatch)
	}
	final := filepath.Join(dir, name)
	if err := os.Link(tmp, final); errors.Is(err, os.ErrExist) {
		if _, have, _ := publish.SHA256(final); have == got {
			return nil // a retried upload
		}
		return fmt.Errorf("artifact %s: %w", name, ErrExists)
	} else if err != nil {
		return err
	}
	return nil
}
