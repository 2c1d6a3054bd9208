package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"fbs/internal/farm"
	"fbs/internal/queue"
	"fbs/internal/store"
)

// MaxClaimWait bounds a claim's long poll, below the usual proxy timeouts.
const MaxClaimWait = 30 * time.Second

// maxLogChunk bounds one log append.
const maxLogChunk = 4 << 20

// leaseOf is the lease a worker call speaks for; its worker is the
// token's, so a worker speaks only for itself.
func leaseOf(r *http.Request) *store.Lease {
	return &store.Lease{BuildID: r.PathValue("id"), Worker: tokenOf(r).Name, Token: r.Header.Get(farm.LeaseHeader)}
}

// failLease answers a worker call's error: 410 when the lease is gone.
func failLease(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		fail(w, http.StatusGone, err)
	case errors.Is(err, queue.ErrMissing), errors.Is(err, queue.ErrMismatch), errors.Is(err, queue.ErrName):
		fail(w, http.StatusBadRequest, err)
	case errors.Is(err, queue.ErrExists):
		fail(w, http.StatusConflict, err)
	default:
		fail(w, http.StatusInternalServerError, err)
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("request body: %w", err))
		return false
	}
	return true
}

// announced is the worker a claim or drain speaks for: its name is its
// token's (a name given must be that one).
func announced(w http.ResponseWriter, r *http.Request, info *farm.Worker) bool {
	if t := tokenOf(r); info.Name != "" && info.Name != t.Name {
		fail(w, http.StatusForbidden, fmt.Errorf("this token is worker %s's, not %s's (fbs token create --worker %s makes one)", t.Name, info.Name, info.Name))
		return false
	}
	info.Name, info.Slots = tokenOf(r).Name, max(info.Slots, 1)
	return true
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	var c farm.ClaimRequest
	if !decode(w, r, &c) || !announced(w, r, &c.Worker) {
		return
	}
	info := &c.Worker
	// Within half a lease the worker calls again, so it is never taken for lost.
	wait := min(time.Duration(c.Wait*float64(time.Second)), MaxClaimWait, s.Queue.Lease/2)
	job, err := s.Queue.Claim(r.Context(), info, wait)
	switch {
	case errors.Is(err, store.ErrNoJob):
		w.WriteHeader(http.StatusNoContent)
	case r.Context().Err() != nil:
	case err != nil:
		fail(w, http.StatusInternalServerError, err)
	default:
		s.Log.Info("build claimed", "build", job.Build.ID, "worker", info.Name, "attempt", job.Build.Attempts)
		writeJSON(w, http.StatusOK, job)
	}
}

// drain records that the worker takes no more builds.
func (s *Server) drain(w http.ResponseWriter, r *http.Request) {
	var info farm.Worker
	if !decode(w, r, &info) || !announced(w, r, &info) {
		return
	}
	if err := s.Queue.Drain(r.Context(), &info); err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	s.Log.Info("worker draining", "worker", info.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	var hb farm.HeartbeatRequest
	if !decode(w, r, &hb) {
		return
	}
	cancel, err := s.Queue.Heartbeat(r.Context(), leaseOf(r), hb.Stage)
	if err != nil {
		failLease(w, err)
		return
	}
	writeJSON(w, http.StatusOK, farm.HeartbeatReply{Cancel: cancel})
}

// appendLog takes the next part of the log (from ?offset=N of the
// server's log); 416 with the log's size when it starts past the end.
func (s *Server) appendLog(w http.ResponseWriter, r *http.Request) {
	offset, err := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	if err != nil || offset < 0 {
		fail(w, http.StatusBadRequest, fmt.Errorf("offset %q: a byte offset is needed", r.URL.Query().Get("offset")))
		return
	}
	s.longBody(w, r)
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLogChunk))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("log part: %w", err))
		return
	}
	size, err := s.Queue.AppendLog(r.Context(), leaseOf(r), offset, data)
	var gap *farm.GapError
	switch {
	case errors.As(err, &gap):
		writeJSON(w, http.StatusRequestedRangeNotSatisfiable, map[string]any{"error": err.Error(), "size": gap.Size})
	case err != nil:
		failLease(w, err)
	default:
		writeJSON(w, http.StatusOK, map[string]int64{"size": size})
	}
}

func (s *Server) putArtifact(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength < 0 {
		fail(w, http.StatusLengthRequired, errors.New("an artifact upload needs its Content-Length"))
		return
	}
	s.longBody(w, r)
	err := s.Queue.PutArtifact(r.Context(), leaseOf(r), r.PathValue("name"), r.ContentLength, r.Header.Get(farm.SHA256Header), r.Body)
	if err != nil {
		failLease(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request) {
	var o farm.Outcome
	if !decode(w, r, &o) {
		return
	}
	if !o.State.Done() {
		fail(w, http.StatusBadRequest, fmt.Errorf("state %q is not a final state", o.State))
		return
	}
	l := leaseOf(r)
	if err := s.Queue.Finish(r.Context(), l, o); err != nil {
		failLease(w, err)
		return
	}
	s.Log.Info("build finished", "build", l.BuildID, "worker", l.Worker, "state", o.State)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	if err := s.Queue.Release(r.Context(), leaseOf(r)); err != nil {
		failLease(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// workers lists the workers with their state.
func (s *Server) workers(w http.ResponseWriter, r *http.Request) {
	all, err := s.Store.Workers(r.Context())
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	now := time.Now()
	for _, wk := range all {
		wk.State = wk.Status(now, s.Queue.Lease)
	}
	if all == nil {
		all = []*store.Worker{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"workers": all})
}
