package worker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fbs/internal/farm"
	"fbs/internal/store"
)

// TestClaimsLeaveOutArches: a worker whose host cannot build one of its
// arches now (binfmt_misc disabled under it) claims only the others, and
// that arch again once the host can.
func TestClaimsLeaveOutArches(t *testing.T) {
	f := newServer(t, 10*time.Second)
	w := f.worker(t, "b1", 1, 10*time.Millisecond)
	w.Info.Arches = []string{"x86_64", "aarch64"}
	var canAArch64 atomic.Bool
	w.CanBuild = func(arch string) error {
		if arch == "aarch64" && !canAArch64.Load() {
			return errors.New("no binfmt_misc entry qemu-aarch64")
		}
		return nil
	}
	var log bytes.Buffer
	w.Log = slog.New(slog.NewTextHandler(&log, nil))
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx, nil) })

	arm := f.submit(t, "aarch64") // first in the queue: claimed first if claimed at all
	if b := f.wait(t, f.submit(t, "x86_64"), 30*time.Second); b.State != store.Succeeded {
		t.Errorf("x86_64 build: %+v", b)
	}
	if b, _ := f.st.Get(ctx, arm); b.State != store.Queued {
		t.Errorf("the aarch64 build was claimed while the host could not build it: %+v", b)
	}
	canAArch64.Store(true)
	if b := f.wait(t, arm, 30*time.Second); b.State != store.Succeeded {
		t.Errorf("aarch64 build: %+v", b)
	}
	stop()
	wg.Wait()
	for _, want := range []string{"arch left out of claims: this host cannot build it now\" arch=aarch64 err=\"no binfmt_misc entry qemu-aarch64\"",
		"arch claimed again\" arch=aarch64"} {
		if strings.Count(log.String(), want) != 1 {
			t.Errorf("the log does not say once %q:\n%s", want, log.String())
		}
	}
}

// TestClaimableNone: a worker that can build none of its arches claims
// nothing, rather than announce an empty list, which takes any arch.
func TestClaimableNone(t *testing.T) {
	w := &Worker{Log: quiet, CanBuild: func(string) error { return errors.New("no") }}
	if info, ok := w.claimable(farm.Worker{Arches: []string{"aarch64"}}); ok {
		t.Errorf("claimable = %+v, true", info)
	}
}
