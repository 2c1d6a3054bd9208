package sysconfig

import (
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"fbs/internal/beneath"
)

// Write does a file step in root: no symlink in the root (which the
// packages' scriptlets made) is followed, so nothing is written outside it.
func Write(root string, s Step) error {
	if s.IsCommand() || s.Path == "" {
		return fmt.Errorf("%s: not a file step", s.Why)
	}
	name := strings.TrimPrefix(path.Clean(s.Path), "/")
	if err := beneath.MkdirAll(root, path.Dir(name), 0o755); err != nil {
		return fmt.Errorf("%s: %w", s.Why, err)
	}
	data := s.Content
	mode := os.FileMode(s.Mode)
	if s.Key != "" || s.Append {
		old, err := read(root, name)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Why, err)
		}
		if s.Key != "" {
			data, mode = setKey(old, s.Key, s.Value), 0o644
		} else {
			data = old + data
		}
	}
	if err := beneath.WriteFile(root, name, []byte(data), mode); err != nil {
		return fmt.Errorf("%s: %w", s.Why, err)
	}
	return nil
}

// read is the file's text, "" when there is none yet.
func read(root, name string) (string, error) {
	f, err := beneath.Open(root, name)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b), err
}

// setKey sets "key=value" in a shell-style config: the line that sets
// key is replaced, or one is added.
func setKey(text, key, value string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	set := key + "=" + value
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), key+"=") {
			lines[i] = set
			return strings.Join(lines, "\n") + "\n"
		}
	}
	return strings.Join(append(lines, set), "\n") + "\n"
}
