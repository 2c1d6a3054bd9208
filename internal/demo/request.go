package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"text/template"
)

// Expect is the console line that shows a demo image booted into the root
// its kickstart's %post changed.
const Expect = "Welcome to the fbs demo live image."

// WriteRequest writes the demo live image's request (demo.conf, in the
// seed's format) and kickstart (demo.ks) into dir, the kickstart pointing at
// the repo in repoDir. It returns the request's path.
func WriteRequest(dir, repoDir, compression string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data := map[string]string{"RepoURL": "file://" + repoDir, "Compression": compression}
	for _, name := range []string{"demo.ks", "demo.conf"} {
		t, err := template.ParseFS(files, "files/"+name)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "demo.conf"), nil
}
