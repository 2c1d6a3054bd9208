// Package api is fbs's REST API: under /api/v1 builds are submitted,
// listed, read, cancelled, their logs followed and their artifacts
// downloaded, and workers listed; under /api/worker/v1 remote workers
// claim builds and report on them.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fbs/internal/auth"
	"fbs/internal/metrics"
	"fbs/internal/publish"
	"fbs/internal/queue"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// MaxBody bounds a request body: a spec and its kickstart are a few KiB.
const MaxBody = 1 << 20

// Server serves the API over a store and its queue. Data is where builds
// keep their logs and artifacts (Data/builds/<id>/…).
type Server struct {
	Store store.Store
	Queue *queue.Service
	Data  string
	Log   *slog.Logger
	// UserAuth makes the user API take only requests with a user token
	// (or a web session): each user then sees and cancels their own
	// builds, admins all.
	UserAuth bool
	Admins   auth.Admins
	// Sessions reads the web pages' session cookies (nil: no web login).
	Sessions *auth.Sessions
	// StagingRoots are the local dirs a request may stage under (file://);
	// FTP and S3 targets are always taken.
	StagingRoots []string
	// S3 are the settings for s3:// targets, which restage publishes on.
	S3 publish.S3Config
	// Metrics is served at /metrics (nil: none), to a user token when
	// UserAuth is set, as the user API is.
	Metrics *metrics.Metrics
	// Hosts are the Host header values the server answers: "name" (any
	// port), "name:port" or "*"; none: any (DefaultHosts makes a list).
	Hosts []string
	// Limits bound what a client may hold the server for (zero: DefaultLimits).
	Limits Limits
	// UI serves every other path: the web pages (nil: none).
	UI http.Handler
}

// routes are the API's endpoints; openapi.json describes each (tested).
func (s *Server) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /api/v1/builds":                      s.submit(parseRequest),
		"GET /api/v1/builds":                       s.list,
		"GET /api/v1/builds/{id}":                  s.get,
		"POST /api/v1/builds/{id}/cancel":          s.cancel,
		"GET /api/v1/builds/{id}/log":              s.log,
		"GET /api/v1/builds/{id}/artifacts/{name}": s.artifact,
		"GET /api/v1/openapi.json":                 serveOpenAPI,
		"GET /api/v1/workers":                      s.workers,
		"POST /api/v1/builds/{id}/restage":         s.restage,
		"POST /rest":                               s.submit(parseSeedREST),

		"POST /api/worker/v1/claim":                       s.claim,
		"POST /api/worker/v1/drain":                       s.drain,
		"POST /api/worker/v1/builds/{id}/heartbeat":       s.heartbeat,
		"POST /api/worker/v1/builds/{id}/log":             s.appendLog,
		"PUT /api/worker/v1/builds/{id}/artifacts/{name}": s.putArtifact,
		"POST /api/worker/v1/builds/{id}/finish":          s.finish,
		"POST /api/worker/v1/builds/{id}/release":         s.release,
	}
}

// Handler returns the API, and /metrics when there are metrics, for the
// Hosts and not for other sites' pages (browserGuard).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range s.routes() {
		mux.HandleFunc(pattern, s.authed(pattern, h))
	}
	if s.Metrics != nil {
		mux.HandleFunc("GET /metrics", s.authed("GET /metrics", s.Metrics.Handler().ServeHTTP))
	}
	if s.UI != nil {
		mux.Handle("/", s.UI)
	}
	return s.browserGuard(mux)
}

// apiError is every error the API answers with.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	e := apiError{Error: err.Error()}
	var se *spec.Error
	if errors.As(err, &se) {
		e = apiError{Error: se.Msg, Field: se.Key, Line: se.Line}
		if se.Key != "" {
			e.Error = se.Key + ": " + se.Msg
		}
	}
	writeJSON(w, code, e)
}

// validID keeps ids to what the store makes, so none reaches a file path
// it should not.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// submit is a handler that reads a request with parse (bounded in size)
// and files it as a queued build, answering 201.
func (s *Server) submit(parse func(*http.Request) (*spec.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		req, err := parse(r)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("the request is larger than %d KiB", MaxBody>>10))
				return
			}
			fail(w, http.StatusBadRequest, err)
			return
		}
		s.file(w, r, req)
	}
}

// file stores a parsed request as a queued build and answers 201.
func (s *Server) file(w http.ResponseWriter, r *http.Request, req *spec.Request) {
	requester := ""
	if u := auth.From(r.Context()); u != nil {
		requester = u.Name
	}
	b, err := s.Submit(r.Context(), req, requester)
	var se *spec.Error
	switch {
	case errors.As(err, &se):
		fail(w, http.StatusBadRequest, err)
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Location", "/api/v1/builds/"+b.ID)
	writeJSON(w, http.StatusCreated, b)
}

// Submit files a parsed request as a queued build (a *spec.Error when the
// request asks what a request over the network may not).
func (s *Server) Submit(ctx context.Context, req *spec.Request, requester string) (*store.Build, error) {
	if err := remoteRequest(req, s.StagingRoots, s.S3); err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	b := &store.Build{Request: body, Type: req.Type, Arch: req.Arch, Release: req.Release, Requester: requester}
	if err := s.Store.Create(ctx, b); err != nil {
		return nil, err
	}
	s.Log.Info("build submitted", "build", b.ID, "type", b.Type, "arch", b.Arch, "release", b.Release, "requester", b.Requester)
	s.Queue.Changed(ctx, b.ID, "accepted")
	s.Queue.Changed(ctx, b.ID, string(store.Queued)) // not as read later: a worker may have it by then
	s.Queue.Waiting(ctx, b)
	return b, nil
}

// parseRequest reads the JSON request, the seed's INI as text/plain, or
// a multipart form with the INI as "spec" and the kickstart as "kickstart".
func parseRequest(r *http.Request) (*spec.Request, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "":
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		return spec.ParseJSON("request", data)
	case "text/plain":
		return spec.ParseINI("request", r.Body)
	case "multipart/form-data":
		return parseMultipart(multipart.NewReader(r.Body, params["boundary"]))
	}
	return nil, &spec.Error{Msg: fmt.Sprintf("Content-Type %q: send application/json, text/plain (the seed's INI) or multipart/form-data", ct)}
}

func parseMultipart(mr *multipart.Reader) (*spec.Request, error) {
	var ini, ks []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		switch p.FormName() {
		case "spec":
			ini = data
		case "kickstart":
			ks = data
		default:
			return nil, &spec.Error{Key: p.FormName(), Msg: "unknown form part (spec and kickstart are known)"}
		}
	}
	return ParseSpec(ini, ks)
}

// ParseSpec reads the seed's INI with the kickstart it names given as
// text (empty: none), as the forms of the API and the submit page carry them.
func ParseSpec(ini, ks []byte) (*spec.Request, error) {
	if len(ini) == 0 {
		return nil, &spec.Error{Key: "spec", Msg: "the form has no spec (the seed's INI)"}
	}
	req, err := spec.Parse("spec", ini)
	if err != nil || len(ks) == 0 {
		return req, err
	}
	switch {
	case req.Live != nil:
		req.Live.Kickstart = string(ks)
	case req.DVD != nil:
		req.DVD.Kickstart = string(ks)
	default:
		return nil, &spec.Error{Key: "kickstart", Msg: "a " + req.Type + " request takes no kickstart"}
	}
	return req, nil
}

// remoteRequest refuses what a request sent over the network may not ask:
// that the server read a file it names (kickstarts come inside the request
// or by URL), or stage into a local dir the operator did not allow.
func remoteRequest(r *spec.Request, roots []string, s3 publish.S3Config) error {
	if err := stagingAllowed(r.Staging, roots, s3); err != nil {
		return &spec.Error{Key: "staging", Msg: err.Error()}
	}
	var config, text, key string
	switch {
	case r.Live != nil:
		config, text, key = r.Live.Config, r.Live.Kickstart, "config"
	case r.DVD != nil:
		config, text, key = r.DVD.Config, r.DVD.Kickstart, "config"
	}
	// url.Parse lower-cases the scheme: FILE:///etc/passwd is a file URL too.
	u, err := url.Parse(config)
	if text == "" && config != "" && !strings.Contains(config, "://") || err == nil && u.Scheme == "file" {
		return &spec.Error{Key: key, Msg: fmt.Sprintf("%s: a request sent over the network cannot name a local file; put the kickstart in the request (JSON kickstart, or a multipart kickstart part) or give an http/https/ftp URL", config)}
	}
	return nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Filter{State: q.Get("state"), Type: q.Get("type"), Arch: q.Get("arch"), Release: q.Get("release"), Requester: q.Get("requester")}
	if u := auth.From(r.Context()); s.UserAuth && !u.Admin {
		if f.Requester != "" && f.Requester != u.Name {
			fail(w, http.StatusForbidden, fmt.Errorf("only admins see other users' builds (you are %s)", u.Name))
			return
		}
		f.Requester = u.Name
	}
	if err := CheckFilter(f); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				fail(w, http.StatusBadRequest, &spec.Error{Key: name, Msg: fmt.Sprintf("%q is not a number from 0 to 1000", v)})
				return
			}
			*dst = n
		}
	}
	builds, err := s.Store.List(r.Context(), f)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	s.Queue.Waiting(r.Context(), builds...)
	views := make([]*Build, len(builds))
	for i, b := range builds {
		views[i] = s.View(b, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"builds": views})
}

// build looks the path's build up, answering 404 itself.
func (s *Server) build(w http.ResponseWriter, r *http.Request) (*store.Build, bool) {
	b, code, err := s.Lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, code, err)
		return nil, false
	}
	return b, true
}

// Lookup is the build id names, if the context's user may see it (the
// API's calls and the web pages alike); otherwise an error and the HTTP
// status that answers it: 404, 403 or 500.
func (s *Server) Lookup(ctx context.Context, id string) (*store.Build, int, error) {
	if !validID(id) {
		return nil, http.StatusNotFound, fmt.Errorf("build %q: %w", id, store.ErrNotFound)
	}
	b, err := s.Store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, http.StatusNotFound, err
	case err != nil:
		return nil, http.StatusInternalServerError, err
	}
	if u := auth.From(ctx); !auth.May(!s.UserAuth, u, b.Requester) {
		return nil, http.StatusForbidden, fmt.Errorf("build %s is not yours (you are %s): only its requester and admins see it", b.ID, u.Name)
	}
	return b, http.StatusOK, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	if b, ok := s.build(w, r); ok {
		s.Queue.Waiting(r.Context(), b)
		b.Notifications, _ = s.Store.Notifications(r.Context(), b.ID)
		writeJSON(w, http.StatusOK, s.View(b, true))
	}
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	b, ok := s.build(w, r)
	if !ok {
		return
	}
	b, err := s.Store.Cancel(r.Context(), b.ID)
	switch {
	case errors.Is(err, store.ErrFinished):
		fail(w, http.StatusConflict, err)
	case err != nil:
		fail(w, http.StatusInternalServerError, err)
	default:
		s.Log.Info("build cancel asked", "build", b.ID, "state", b.State)
		if b.State == store.Cancelled {
			s.Queue.Changed(r.Context(), b.ID, "")
		}
		writeJSON(w, http.StatusOK, b)
	}
}

func (s *Server) artifact(w http.ResponseWriter, r *http.Request) {
	b, ok := s.build(w, r)
	if !ok {
		return
	}
	if b.Purged != nil {
		fail(w, http.StatusGone, fmt.Errorf("build %s's artifacts were removed by retention on %s", b.ID, b.Purged.Format(time.DateOnly)))
		return
	}
	name := r.PathValue("name")
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		fail(w, http.StatusNotFound, fmt.Errorf("no artifact %q", name))
		return
	}
	f, err := os.Open(filepath.Join(queue.Dir(s.Data, b.ID), "artifacts", name))
	if err != nil {
		fail(w, http.StatusNotFound, fmt.Errorf("build %s has no artifact %q", b.ID, name))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		fail(w, http.StatusNotFound, fmt.Errorf("build %s has no artifact %q", b.ID, name))
		return
	}
	// ServeContent answers Range requests, so a large ISO download resumes.
	http.ServeContent(s.longAnswer(w), r, name, st.ModTime(), f)
}

// stagingAllowed takes FTP and S3 targets, and file:///DIR only under one
// of roots (after cleaning, so no .. leads out).
func stagingAllowed(staging string, roots []string, s3 publish.S3Config) error {
	target, err := publish.Parse(staging, s3)
	if err != nil || target.Dir == "" {
		return err
	}
	for _, root := range roots {
		if rel, err := filepath.Rel(filepath.Clean(root), target.Dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return nil
		}
	}
	if len(roots) == 0 {
		return fmt.Errorf("%s: this server stages into no local dir (its operator allows some with --staging-root); use ftp:// or s3://, or leave staging= empty and fbs download", staging)
	}
	return fmt.Errorf("%s: not under a dir this server stages into (%s)", staging, strings.Join(roots, ", "))
}

// restage publishes a finished build's artifacts again from the store on
// its request's target (after a publishing failure, or once more).
func (s *Server) restage(w http.ResponseWriter, r *http.Request) {
	b, ok := s.build(w, r)
	if !ok {
		return
	}
	req, err := spec.ParseJSON("request", b.Request)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	target, err := publish.Parse(req.Staging, s.S3)
	switch {
	case err != nil:
		fail(w, http.StatusBadRequest, err)
		return
	case !target.Staged():
		fail(w, http.StatusConflict, fmt.Errorf("build %s asked for no staging (staging= is empty); fbs download fetches its artifacts", b.ID))
		return
	case !b.State.Done():
		fail(w, http.StatusConflict, fmt.Errorf("build %s is %s: it stages its artifacts itself when built", b.ID, b.State))
		return
	}
	var arts []queue.Artifact
	json.Unmarshal(b.Artifacts, &arts)
	if len(arts) == 0 {
		fail(w, http.StatusConflict, fmt.Errorf("build %s has no artifacts to stage", b.ID))
		return
	}
	names := make([]string, len(arts))
	for i, a := range arts {
		names[i] = a.Name
	}
	if err := s.Queue.Restage(r.Context(), b.ID, target, names); err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	s.Log.Info("build restaged", "build", b.ID, "target", target.String())
	if b, ok = s.build(w, r); ok {
		writeJSON(w, http.StatusOK, b)
	}
}
