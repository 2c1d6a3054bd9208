package worker

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"fbs/internal/beneath"
	"fbs/internal/farm"
)

// report sends the outcome: first the artifacts, when the server does not
// share Dir, then the outcome itself. Both keep trying through server
// restarts for a while, not past a lost lease.
func (w *Worker) report(l *farm.Lease, o farm.Outcome, log *slog.Logger) error {
	ctx := context.Background() // the build is over: its result is sent even as the worker stops
	if w.Own {
		for _, a := range o.Artifacts {
			err := retry(ctx, log, "upload "+a.Name, 5*time.Minute, func() error {
				// As every file a build made is opened: no symlink, fifo or device.
				f, err := beneath.Open(filepath.Dir(a.Path), filepath.Base(a.Path))
				if err != nil {
					return err
				}
				defer f.Close()
				return w.Queue.PutArtifact(ctx, l, a.Name, a.Size, a.SHA256, f)
			})
			if err != nil {
				return fmt.Errorf("upload %s: %w", a.Name, err)
			}
			log.Info("artifact uploaded", "name", a.Name, "size", a.Size)
		}
	}
	return w.Queue.Finish(ctx, l, o)
}
