package buildlog

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestOutput(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	var seen []string
	out := l.Output("  tool: ", func(s string) bool {
		seen = append(seen, s)
		return strings.HasPrefix(s, "[")
	})
	out.Write([]byte("first\nsec"))
	out.Write([]byte("ond\r[==] 50%\r[====] 100%\n\n"))
	out.Write([]byte("no newline"))
	out.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z   tool: `)
	var text []string
	for _, line := range lines {
		if !stamp.MatchString(line) {
			t.Errorf("line %q lacks the timestamp and prefix", line)
		}
		text = append(text, stamp.ReplaceAllString(line, ""))
	}
	if strings.Join(text, "|") != "first|second|no newline" {
		t.Errorf("logged %q", text)
	}
	if len(seen) != 5 {
		t.Errorf("onLine saw %q", seen)
	}
	if out.Tail() != "first\nsecond\nno newline" {
		t.Errorf("tail %q", out.Tail())
	}
}

func TestPrintfStampsEveryLine(t *testing.T) {
	var buf bytes.Buffer
	New(&buf).Printf("a\nb")
	if n := strings.Count(buf.String(), "Z "); n != 2 {
		t.Errorf("%q", buf.String())
	}
}
