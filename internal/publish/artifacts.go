package publish

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"fbs/internal/buildlog"
)

// FailedPrefix starts the error of a build that was built but could not
// be staged: fbs restage ID stages it from the server's store.
const FailedPrefix = "staging: "

// Artifacts stages a built build's artifacts (the ISO first), and its
// log as it is then, on target; progress goes into the log at logPath.
// Its worker calls it after the build, the server's restage later.
func Artifacts(ctx context.Context, target Target, paths []string, logPath string) error {
	log, err := buildlog.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	files := make([]File, len(paths))
	for i, p := range paths {
		files[i] = File{Path: p, Name: filepath.Base(p)}
	}
	log.Printf("=== stage staging: %d artifacts to %s", len(files), target)
	if _, err := All(ctx, target, files, DefaultRetry, log.Printf); err != nil {
		log.Printf("staging failed: %v (the artifacts are kept: fbs restage ID tries again)", err)
		return fmt.Errorf("%s%w", FailedPrefix, err)
	}
	// The log goes last, as it is now; nothing is written to it meanwhile.
	logName := strings.TrimSuffix(files[0].Name, filepath.Ext(files[0].Name)) + ".log"
	if _, err := All(ctx, target, []File{{Path: logPath, Name: logName}}, DefaultRetry, func(string, ...any) {}); err != nil {
		log.Printf("staging the log failed: %v", err)
		return fmt.Errorf("%s%w", FailedPrefix, err)
	}
	log.Printf("=== stage staging done: %s", target)
	return nil
}
