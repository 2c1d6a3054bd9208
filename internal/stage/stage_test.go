package stage

import (
	"fmt"
	"os"
	"path/filepath"
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
		got, err := Parse(in)
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

func TestCopyTempAcrossFilesystems(t *testing.T) {
	// copyTemp is the path taken across filesystems (EXDEV); check it directly.
	src := filepath.Join(t.TempDir(), "big.iso")
	if err := os.WriteFile(src, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tmp, err := copyTemp(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(tmp)
	if err != nil || st.Size() != 3<<20 || filepath.Dir(tmp) != dir {
		t.Errorf("temp copy %s: %v %v", tmp, st, err)
	}
}
