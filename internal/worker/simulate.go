package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fbs/internal/build"
	"fbs/internal/buildlog"
	"fbs/internal/publish"
	"fbs/internal/spec"
)

// Simulate is a build that builds nothing: it logs, takes d, and leaves
// a small artifact. Load and fault tests of the queue use it where the
// cost of real images would drown what they measure.
func Simulate(d time.Duration) func(context.Context, *spec.Request, build.Options) (*build.Result, error) {
	return func(ctx context.Context, req *spec.Request, opts build.Options) (*build.Result, error) {
		log, err := buildlog.Create(opts.LogFile)
		if err != nil {
			return nil, err
		}
		defer log.Close()
		log.Printf("simulated %s build (%s, release %s): nothing is built", req.Type, req.Arch, req.Release)
		stages := []build.StageTime{}
		for i, stage := range []string{"packages", "image"} {
			if opts.Reporter != nil {
				opts.Reporter.StageStart(stage)
			}
			log.Printf("=== stage %s", stage)
			start := time.Now()
			select {
			case <-ctx.Done():
				log.Printf("stopped: %v", context.Cause(ctx))
				return nil, context.Cause(ctx)
			case <-time.After(d / 2):
			}
			log.Printf("stage %s done (%d of 2)", stage, i+1)
			stages = append(stages, build.StageTime{Name: stage, Seconds: time.Since(start).Seconds()})
		}
		data := []byte(fmt.Sprintf("a simulated %s image of release %s\n", req.Type, req.Release))
		sum := sha256.Sum256(data)
		path := filepath.Join(opts.Store, "simulated-"+time.Now().UTC().Format("20060102-150405.000000000")+".txt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		log.Printf("artifact %s", path)
		res := &build.Result{Log: opts.LogFile, Stages: stages, Artifacts: []build.Artifact{
			{Name: filepath.Base(path), Path: path, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
		}}
		// Published as a build publishes, so the service's publishing and
		// restage are tested without images.
		target, err := publish.Parse(req.Staging, opts.S3)
		if err != nil || !target.Staged() {
			return res, err
		}
		log.Printf("=== stage %s", publish.Stage)
		start := time.Now()
		if _, err := publish.Artifacts(ctx, target, []publish.File{{Path: path, Name: filepath.Base(path)}}, opts.LogFile, log.Printf); err != nil {
			log.Printf("build failed: %s%v", publish.FailedPrefix, err)
			return res, fmt.Errorf("%s%w", publish.FailedPrefix, err)
		}
		log.Printf("=== stage %s done in %s: %s", publish.Stage, time.Since(start).Round(time.Millisecond), target)
		return res, nil
	}
}
