package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"fbs/internal/queue"
	"fbs/internal/store"
)

// MaxClaimWait bounds a claim's long poll, below the usual proxy timeouts.
const MaxClaimWait = 30 * time.Second

// maxLogChunk bounds one log append.
const maxLogChunk = 4 << 20

// ClaimRequest is what a worker serves (its name, when given, must be its
// token's) and how long it waits for a build.
type ClaimRequest struct {
	store.Worker
	Wait float64 `json:"wait_seconds"`
}

// HeartbeatRequest and HeartbeatReply renew a lease.
type (
	HeartbeatRequest struct {
		Stage string `json:"stage"`
	}
	HeartbeatReply struct {
		Cancel bool `json:"cancel"`
	}
)

// LeaseHeader carries the lease token on the worker API's build calls.
const LeaseHeader = "Fbs-Lease"

// SHA256Header carries an uploaded artifact's sha256.
const SHA256Header = "Fbs-Sha256"

// leaseOf is the lease a worker call speaks for; its worker is the
// token's, so a worker speaks only for itself.
func leaseOf(r *http.Request) *store.Lease {
	return &store.Lease{BuildID: r.PathValue("id"), Worker: tokenOf(r).Name, Token: r.Header.Get(LeaseHeader)}
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

func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	var c ClaimRequest
	if !decode(w, r, &c) {
		return
	}
	if t := tokenOf(r); c.Name != "" && c.Name != t.Name {
		fail(w, http.StatusForbidden, fmt.Errorf("this token is worker %s's, not %s's (fbs token create --worker %s makes one)", t.Name, c.Name, c.Name))
		return
	}
	info := &c.Worker
	info.Name, info.Slots = tokenOf(r).Name, max(c.Slots, 1)
	// Within half a lease the worker calls again, so it is never taken for lost.
	if c.Draining { // it takes nothing more; the call says so to the registry
		if err := s.Store.SeenWorker(r.Context(), info); err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
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

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	var hb HeartbeatRequest
	if !decode(w, r, &hb) {
		return
	}
	cancel, err := s.Queue.Heartbeat(r.Context(), leaseOf(r), hb.Stage)
	if err != nil {
		failLease(w, err)
		return
	}
	writeJSON(w, http.StatusOK, HeartbeatReply{Cancel: cancel})
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
	var gap *queue.GapError
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
	err := s.Queue.PutArtifact(r.Context(), leaseOf(r), r.PathValue("name"), r.ContentLength, r.Header.Get(SHA256Header), r.Body)
	if err != nil {
		failLease(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request) {
	var o queue.Outcome
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
