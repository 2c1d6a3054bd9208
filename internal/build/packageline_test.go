package build

import (
	"testing"

	"fbs/internal/kickstart"
)

func TestPackageLine(t *testing.T) {
	ks := []string{"url --url=file:///r", "%packages", "@core", "kernel", "vim-enhanced --x", "%end", "%post", "nosuch", "%end", "%packages", "wget", "%end"}
	var lines []kickstart.Line
	for i, text := range ks {
		lines = append(lines, kickstart.Line{Text: text, Pos: kickstart.Pos{File: "a.ks", Line: i + 1}})
	}
	header := kickstart.Pos{File: "a.ks", Line: 2}
	tests := map[string]int{"kernel": 4, "core": 3, "vim-enhanced": 5, "wget": 11, "nosuch": 2, "gone": 2}
	for pkg, want := range tests {
		if got := packageLine(lines, header, pkg); got.Line != want {
			t.Errorf("%s: line %d, want %d", pkg, got.Line, want)
		}
	}
}
