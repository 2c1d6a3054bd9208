package kickstart

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzKickstart flattens and parses arbitrary kickstarts (with %include
// resolving inside testdata): a result or a *kickstart.Error, never a panic.
func FuzzKickstart(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ks")
	more, _ := filepath.Glob("testdata/fedora/*.ks")
	files = append(files, more...)
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("%packages\n@core\n%end\n%post --nochroot --log=/x\necho\n%end\n%include inc/repo.ks\n")
	f.Add("repo --name=a --baseurl=\"http://x/ y\" --cost=1\nbootloader --append='a \"b\"' --timeout=5\n")
	f.Add("lang en # x\nrootpw --plain --lock\n%packages --ex\n@g --nodef\n-@g\n-\n%end\n%certificate --type anchor --filename a\nX\n%end\n%ksappend x\n")
	f.Fuzz(func(t *testing.T, text string) {
		l := Inline{Name: "fuzz.ks", Text: text, Next: testdataOnly{&FileLoader{Dir: "testdata"}}}
		lines, err := Flatten(context.Background(), l, "fuzz.ks")
		if err == nil {
			_, err = Parse(lines)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) && !errors.Is(err, os.ErrNotExist) {
			// A missing or unreadable include is wrapped in an Error too.
			t.Fatalf("error %v (%T) is not a *kickstart.Error", err, err)
		}
	})
}

// testdataOnly keeps the fuzzer's includes in testdata: no network, no
// host files.
type testdataOnly struct{ Loader }

func (l testdataOnly) Load(ctx context.Context, ref, base string) (string, []byte, error) {
	if strings.Contains(ref, "://") || filepath.IsAbs(ref) || strings.Contains(ref, "..") {
		return "", nil, errors.New("outside testdata")
	}
	return l.Loader.Load(ctx, ref, base)
}

func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`a "b c" 'd'`, `x\ y`, `"unclosed`, `tail\`, `a#b 'c#d' e\#f # g`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		splitArgs(s)
	})
}
