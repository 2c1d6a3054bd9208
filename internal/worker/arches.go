package worker

import (
	"errors"

	"fbs/internal/farm"
	"fbs/internal/hostarch"
)

var errNoArch = errors.New("this host can build none of the worker's arches now")

// claimable is info with the arches this host cannot build now left out:
// binfmt_misc can be disabled under a running worker, and a build claimed
// for such an arch would only fail. ok is false when none is left, as an
// empty list would claim builds of any arch.
func (w *Worker) claimable(info farm.Worker) (_ farm.Worker, ok bool) {
	check := w.CanBuild
	if check == nil {
		check = hostarch.Check
	}
	var arches []string
	for _, a := range info.Arches {
		err := check(a)
		w.noteArch(a, err)
		if err == nil {
			arches = append(arches, a)
		}
	}
	if len(info.Arches) > 0 && len(arches) == 0 {
		return info, false
	}
	info.Arches = arches
	return info, true
}

// noteArch logs when an arch is left out of claims, and when it is back.
func (w *Worker) noteArch(arch string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	was, left := w.leftOut[arch]
	switch {
	case err != nil && (!left || was != err.Error()):
		if w.leftOut == nil {
			w.leftOut = map[string]string{}
		}
		w.leftOut[arch] = err.Error()
		w.Log.Warn("arch left out of claims: this host cannot build it now", "arch", arch, "err", err)
	case err == nil && left:
		delete(w.leftOut, arch)
		w.Log.Info("arch claimed again", "arch", arch)
	}
}
