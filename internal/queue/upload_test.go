package queue

import (
	"strings"
	"testing"
)

// TestCheckName: artifact names from workers are plain file names.
func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"Fedora-Live-40-20261127.iso": true,
		"CHECKSUM":                    true,
		"":                            false,
		".":                           false,
		"..":                          false,
		"../fbs.db":                   false,
		"/etc/passwd":                 false,
		"a/b":                         false,
		`a\b`:                         false,
		".part":                       false,
		"x\x00.iso":                   false,
		strings.Repeat("x", 256):      false,
	} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
