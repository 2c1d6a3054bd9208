package publish

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Stage is the name of the build's last stage, which publishes.
const Stage = "publish"

// FailedPrefix starts the error of a build that was built but could not
// be published (a build's failed stage is "stage NAME: …"): fbs restage
// ID publishes it from the server's store.
const FailedPrefix = "stage " + Stage + ": "

// File is a local file to publish, and its published name.
type File struct{ Path, Name string }

// Published is where a build's files went on a target.
type Published struct {
	Artifacts []string // each artifact's place, in the order given
	Log       string
}

// Artifacts publishes a build's artifacts on t (the ISO first), all or
// nothing: on a failure what was published is taken back, and the local
// files stay in place either way. The build log at logPath goes last, as it
// is then, named after the first artifact. It is not an artifact: it has no
// checksum (it grows until the build's end) and a service keeps its own
// copy. fbs build and the service publish through here; progress goes to logf.
func Artifacts(ctx context.Context, t Target, files []File, logPath string, logf func(string, ...any)) (Published, error) {
	var p Published
	undo := func() {
		for _, w := range p.Artifacts {
			if t.Remote != nil {
				t.Remote.Remove(context.WithoutCancel(ctx), path.Base(w))
			} else {
				os.Remove(w)
			}
		}
	}
	for _, f := range files {
		where, err := put(ctx, t, f, logf)
		if err != nil {
			undo()
			return Published{}, err
		}
		logf("published %s", where)
		p.Artifacts = append(p.Artifacts, where)
	}
	// Nothing is written to the log while it goes up: a file that grows
	// under an upload does not match the size it was sent with.
	logName := strings.TrimSuffix(files[0].Name, filepath.Ext(files[0].Name)) + ".log"
	where, err := put(ctx, t, File{Path: logPath, Name: logName}, func(string, ...any) {})
	if err != nil {
		undo()
		return Published{}, fmt.Errorf("the log: %w", err)
	}
	p.Log = where
	logf("published the log as %s", where)
	return p, nil
}

// put publishes one file on t and says where it went.
func put(ctx context.Context, t Target, f File, logf func(string, ...any)) (string, error) {
	var where string
	var err error
	if t.Remote != nil {
		where, err = Upload(ctx, t.Remote, DefaultRetry, f.Path, f.Name, logf)
	} else {
		where, err = Copy(f.Path, t.Dir, f.Name)
	}
	if err != nil {
		return "", fmt.Errorf("publishing to %s: %w", t, err)
	}
	return where, nil
}
