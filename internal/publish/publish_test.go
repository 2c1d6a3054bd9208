package publish

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		want string // the local dir, or the remote target
		bad  bool
	}{
		"":                                 {},
		"file:///srv/staging":              {want: "/srv/staging"},
		"file:///srv/a/../b/":              {want: "/srv/b"},
		"ftp.example.org":                  {want: "ftp://ftp.example.org:21/"},
		"10.0.0.27":                        {want: "ftp://10.0.0.27:21/"},
		"ftp://ftp.example.org/incoming":   {want: "ftp://ftp.example.org:21/incoming"},
		"ftp://u:p@ftp.example.org:2121/x": {want: "ftp://ftp.example.org:2121/x"},
		"ftps://ftp.example.org/x/../y":    {want: "ftps://ftp.example.org:21/y"},
		"s3://bucket/prefix/":              {want: "s3://bucket/prefix"},
		"file://relative/x":                {bad: true},
		"gopher://x/y":                     {bad: true},
		"ftp:///nohost":                    {bad: true},
		"s3:///nobucket":                   {bad: true},
	}
	for in, tc := range tests {
		got, err := Parse(in, S3Config{})
		where := got.Dir
		if got.Remote != nil {
			where = fmt.Sprint(got.Remote)
		}
		switch {
		case tc.bad:
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want a bad staging error", in, got)
			}
		case err != nil || where != tc.want:
			t.Errorf("Parse(%q) = %q, %v; want %q", in, where, err, tc.want)
		}
	}
}

func TestPutNeverOverwrites(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	var staged []string
	for i, text := range []string{"first", "second", "third"} {
		src := filepath.Join(work, "x.iso")
		if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Put(src, dir, "Live-20261126-120000.iso")
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Errorf("put %d left its source behind", i)
		}
		staged = append(staged, p)
	}
	want := []string{"Live-20261126-120000.iso", "Live-20261126-120000.iso.1", "Live-20261126-120000.iso.2"}
	for i, p := range staged {
		if filepath.Base(p) != want[i] {
			t.Errorf("put %d staged as %s, want %s", i, filepath.Base(p), want[i])
		}
	}
	if data, _ := os.ReadFile(staged[0]); string(data) != "first" {
		t.Errorf("first file now holds %q", data)
	}
}

// TestDuplicate: the copy taken across filesystems (EXDEV) and for a
// shared cache's files is a file of its own.
func TestDuplicate(t *testing.T) {
	src := filepath.Join(t.TempDir(), "big.rpm")
	if err := os.WriteFile(src, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst, err := Duplicate(src, dir, "big.rpm")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil || st.Size() != 3<<20 || filepath.Dir(dst) != dir {
		t.Fatalf("copy %s: %v %v", dst, st, err)
	}
	if st.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Error("the copy shares its inode with the source")
	}
}

// TestStageRefusesPlanted: what a build's code planted under an
// artifact's name in the work dir (a symlink to a host file, a fifo) is
// neither staged, nor read, nor hashed.
func TestStageRefusesPlanted(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	host := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(host, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Symlink(host, filepath.Join(work, "link.iso"))
	syscall.Mkfifo(filepath.Join(work, "fifo.iso"), 0o644)
	stages := map[string]func(src string) error{
		"put":    func(src string) error { _, err := Put(src, dir, "x"); return err },
		"copy":   func(src string) error { _, err := Copy(src, dir, "x"); return err },
		"sha256": func(src string) error { _, _, err := SHA256(src); return err },
		"upload": func(src string) error { _, _, err := openSized(src); return err },
	}
	for name, f := range stages {
		for _, src := range []string{"link.iso", "fifo.iso"} {
			if err := f(filepath.Join(work, src)); err == nil {
				t.Errorf("%s %s: staged", name, src)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("staged: %v", entries)
	}
}
