package beneath

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tree makes a work dir as a hostile build could leave it, and a host
// file outside it that must never be read or written through it.
func tree(t *testing.T) (dir, host string) {
	t.Helper()
	top := t.TempDir()
	dir, host = filepath.Join(top, "work"), filepath.Join(top, "host-secret")
	must(t, os.WriteFile(host, []byte("secret"), 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "plain"), []byte("plain"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "plain"), []byte("plain"), 0o644))
	must(t, os.Symlink(host, filepath.Join(dir, "abs-link")))
	must(t, os.Symlink("plain", filepath.Join(dir, "inner-link")))
	must(t, os.Symlink(filepath.Dir(host), filepath.Join(dir, "dir-link")))
	must(t, os.Symlink("sub", filepath.Join(dir, "inner-dir-link")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(t, os.Link(host, filepath.Join(dir, "hard-link")))
	return dir, host
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	dir, _ := tree(t)
	tests := map[string]struct {
		name     string
		open     func(dir, name string) (*os.File, error)
		ok       bool
		notRegul bool
	}{
		"plain":                       {"plain", Open, true, false},
		"plain in a subdir":           {"sub/plain", Open, true, false},
		"symlink out, last component": {"abs-link", Open, false, false},
		"symlink in, last component":  {"inner-link", Open, false, false},
		"symlink out, middle":         {"dir-link/host-secret", Open, false, false},
		"symlink in, middle":          {"inner-dir-link/plain", Open, false, false},
		"dot-dot out":                 {"../host-secret", Open, false, false},
		"dot-dot in":                  {"sub/../plain", Open, true, false},
		"absolute":                    {"/etc/passwd", Open, false, false},
		"fifo":                        {"fifo", Open, false, true},
		"device":                      {"../../../../../../../dev/null", Open, false, false},
		"dir":                         {"sub", Open, false, true},
		"hard link, any":              {"hard-link", Open, true, false},
		"hard link, sole":             {"hard-link", OpenSole, false, true},
		"plain, sole":                 {"plain", OpenSole, true, false},
		"in root: inner symlink":      {"inner-link", OpenInRoot, true, false},
		"in root: absolute symlink":   {"abs-link", OpenInRoot, false, false},
		"in root: dot-dot stays":      {"../../plain", OpenInRoot, true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := tc.open(dir, tc.name)
			if err == nil {
				f.Close()
			}
			if tc.ok != (err == nil) {
				t.Fatalf("open %s: %v, want ok %v", tc.name, err, tc.ok)
			}
			if tc.notRegul != errors.Is(err, ErrNotRegular) {
				t.Errorf("open %s: %v, want ErrNotRegular %v", tc.name, err, tc.notRegul)
			}
		})
	}
}

// TestOpenDevice: a device node a build made (it may: CAP_MKNOD) is no file.
func TestOpenDevice(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o644, 1<<8|3); err != nil {
		t.Skipf("mknod: %v (needs root)", err)
	}
	if f, err := Open(dir, "null"); !errors.Is(err, ErrNotRegular) {
		f.Close()
		t.Errorf("a device opened: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	tests := map[string]struct {
		name string
		ok   bool
	}{
		"new":                     {"new", true},
		"over a plain file":       {"plain", true},
		"over a symlink out":      {"abs-link", true}, // the link is replaced, the host file untouched
		"over a fifo":             {"fifo", true},
		"through a dir symlink":   {"dir-link/host-secret", false},
		"through an inner link":   {"inner-dir-link/new", false},
		"dot-dot out":             {"../host-secret", false},
		"over a dir":              {"sub", false},
		"in a subdir":             {"sub/new", true},
		"over a hard link to out": {"hard-link", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir, host := tree(t)
			err := WriteFile(dir, tc.name, []byte("fbs"), 0o644)
			if tc.ok != (err == nil) {
				t.Fatalf("write %s: %v, want ok %v", tc.name, err, tc.ok)
			}
			if b, _ := os.ReadFile(host); string(b) != "secret" {
				t.Errorf("the host file now holds %q", b)
			}
			if tc.ok {
				st, err := os.Lstat(filepath.Join(dir, tc.name))
				if err != nil || !st.Mode().IsRegular() {
					t.Errorf("%s: %v %v", tc.name, st.Mode(), err)
				}
			}
		})
	}
}

func TestMkdirAllRemove(t *testing.T) {
	dir, host := tree(t)
	for name, ok := range map[string]bool{"a/b/c": true, "sub": true, "dir-link/x": false, "inner-dir-link/x": false, "plain/x": false, "../x": false} {
		if err := MkdirAll(dir, name, 0o755); ok != (err == nil) {
			t.Errorf("mkdir %s: %v, want ok %v", name, err, ok)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(host), "x")); err == nil {
		t.Error("a dir was made outside")
	}
	must(t, Remove(dir, "abs-link"))
	if _, err := os.Stat(host); err != nil {
		t.Errorf("removing a symlink removed its target: %v", err)
	}
	if err := Remove(dir, "dir-link/host-secret"); err == nil {
		t.Error("removed through a symlink")
	}
	must(t, Remove(dir, "a/b/c"))
}
