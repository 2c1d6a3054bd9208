// Package web is fbs serve's web interface: the builds, each build's page
// with its log following live, and the workers. Pages are rendered on the
// server and read without JavaScript; htmx (vendored in static/, 0BSD:
// htmx.org 2.0.11 and htmx-ext-sse 2.2.4 from the npm registry) refreshes
// the live parts and follows the log over the API's event stream; follow.js
// (ours, a dozen lines) keeps the log at its tail while the reader is there.
// The API page draws the API's OpenAPI document with Redoc (vendored in
// static/redoc-2.5.4, MIT: its standalone bundle from the npm registry).
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"fbs/internal/api"
	"fbs/internal/auth"
	"fbs/internal/bootcheck"
	"fbs/internal/egress"
	"fbs/internal/publish"
	"fbs/internal/queue"
	"fbs/internal/store"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Server serves the pages over the service's store and queue.
type Server struct {
	Store store.Store
	Queue *queue.Service
	Data  string
	Log   *slog.Logger
	// API files what the submit page sends and looks builds up, under the
	// REST API's rules.
	API *api.Server
	// Sessions keep who is logged in and each session's CSRF token.
	Sessions *auth.Sessions
	// OIDC logs users in (nil: no login).
	OIDC *auth.OIDC
	// Egress is what the submit form's kickstart URLs may reach.
	Egress *egress.Policy

	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"since": func(t time.Time) string { return time.Since(t).Round(time.Second).String() },
	"took": func(b *store.Build) string {
		switch {
		case b.Started == nil:
			return ""
		case b.Finished == nil:
			return time.Since(*b.Started).Round(time.Second).String()
		}
		return b.Finished.Sub(*b.Started).Round(time.Second).String()
	},
	"when":   func(t time.Time) string { return t.Local().Format(time.DateTime) },
	"size":   publish.HumanSize,
	"field":  field,
	"anchor": anchor,
	"join": func(l []string) string {
		if len(l) == 0 {
			return "any"
		}
		return strings.Join(l, ", ")
	},
	"label": api.Label,
}

// Handler is the pages, with protection against cross-origin form posts.
func (s *Server) Handler() http.Handler {
	s.pages = map[string]*template.Template{}
	for _, page := range []string{"builds", "build", "workers", "submit", "login", "fail", "tokens", "api"} {
		s.pages[page] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templates, "templates/layout.html", "templates/"+page+".html"))
	}
	sub, _ := fs.Sub(static, "static")
	pages := http.NewServeMux()
	pages.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/builds", http.StatusFound) })
	pages.HandleFunc("GET /builds", s.builds)
	pages.HandleFunc("GET /builds/{id}", s.build)
	pages.HandleFunc("POST /builds/{id}/cancel", s.cancel)
	pages.HandleFunc("GET /workers", s.workers)
	pages.HandleFunc("GET /api/docs", func(w http.ResponseWriter, r *http.Request) { s.render(w, r, http.StatusOK, "api", map[string]any{}) })
	pages.HandleFunc("GET /submit", s.submitPage)
	pages.HandleFunc("POST /submit", s.submit)
	pages.HandleFunc("POST /logout", s.logout)
	pages.HandleFunc("GET /tokens", s.tokens)
	pages.HandleFunc("POST /tokens", s.createToken)
	pages.HandleFunc("POST /tokens/{id}/revoke", s.revokeToken)
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /login/start", s.loginStart)
	mux.HandleFunc("GET "+auth.CallbackPath, s.loginCallback)
	mux.Handle("/", s.guard(pages))
	return http.NewCrossOriginProtection().Handler(mux)
}

// render writes a page, or just its "content" part when htmx asks for it
// (a refresh of the live parts).
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, data map[string]any) {
	data["Open"] = s.open()
	data["Page"] = page
	data["User"] = auth.From(r.Context())
	if sess := sessionOf(r); sess != nil {
		data["CSRF"] = sess.CSRF
	}
	name := "layout.html"
	if refresh(r) {
		name = "content"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := s.pages[page].ExecuteTemplate(w, name, data); err != nil {
		s.Log.Error("web page", "page", page, "err", err)
	}
}

// refresh says that htmx asks for a page's live parts again.
func refresh(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true"
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	s.render(w, r, code, "fail", map[string]any{"Error": err.Error(), "Code": code})
}

const perPage = 25

func (s *Server) builds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.Filter{State: q.Get("state"), Type: q.Get("type"), Arch: q.Get("arch"), Release: q.Get("release"), Requester: q.Get("requester"), Limit: perPage + 1}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f.Offset = (page - 1) * perPage
	name, own := s.onlyOwn(r)
	if own {
		f.Requester = name
	}
	list, err := s.Store.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	more := len(list) > perPage
	list = list[:min(len(list), perPage)]
	s.Queue.Waiting(r.Context(), list...)
	s.render(w, r, http.StatusOK, "builds", map[string]any{"Builds": list, "Filter": f, "PageNo": page, "More": more,
		"Next": withPage(q, page+1), "Prev": withPage(q, page-1), "Self": r.URL.RequestURI(), "Own": own, "Types": api.Types, "States": api.States})
}

func withPage(q url.Values, page int) string {
	v := url.Values{}
	for k, vals := range q {
		if len(vals) > 0 && vals[0] != "" {
			v.Set(k, vals[0])
		}
	}
	v.Set("page", strconv.Itoa(page))
	return "?" + v.Encode()
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) (*store.Build, bool) {
	b, code, err := s.API.Lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, code, err)
		return nil, false
	}
	return b, true
}

func (s *Server) build(w http.ResponseWriter, r *http.Request) {
	b, ok := s.get(w, r)
	if !ok {
		return
	}
	s.Queue.Waiting(r.Context(), b)
	b.Notifications, _ = s.Store.Notifications(r.Context(), b.ID)
	var arts []queue.Artifact
	json.Unmarshal(b.Artifacts, &arts)
	ini, ks := requestText(b.Request)
	var log string
	if !refresh(r) {
		// The status refresh (every 3 s) keeps none of the log: the
		// stream brings it.
		log = readLog(queue.LogPath(s.Data, b.ID))
	}
	lines, firstErr := logLines(log)
	view := s.API.View(b, true)
	w.Header().Set("Cache-Control", "no-store") // the status is always read anew
	// The stage the log is at: the store hears of it only at heartbeats.
	var current []string
	for _, st := range view.Stages {
		if st.State == "running" && !b.State.Done() {
			current = append(current, st.Name)
		}
	}
	s.render(w, r, http.StatusOK, "build", map[string]any{"B": b, "Label": view.Label, "Current": strings.Join(current, ", "), "Stages": timeline(view.Stages), "Artifacts": arts,
		"INI": ini, "Kickstart": ks, "Log": lines, "FirstError": firstErr, "LogSize": len(log), "Boots": bootTests(b)})
}

// logLine is a line of the log as the page shows it, errors marked.
type logLine struct {
	Text string
	Err  bool
}

// logLines splits the log into lines and says whether any tells of an error.
func logLines(log string) ([]logLine, bool) {
	var out []logLine
	first := false
	for _, l := range strings.SplitAfter(log, "\n") {
		if l == "" {
			continue
		}
		e := api.IsErrorLine(strings.TrimRight(l, "\n"))
		first = first || e
		out = append(out, logLine{Text: strings.TrimRight(l, "\n"), Err: e})
	}
	return out, first
}

// stageBar is a stage of the timeline, with its share of the longest.
type stageBar struct {
	api.Stage
	Percent int
}

func timeline(stages []api.Stage) []stageBar {
	longest := 0.0
	for _, s := range stages {
		longest = max(longest, s.Seconds)
	}
	out := make([]stageBar, len(stages))
	for i, s := range stages {
		out[i] = stageBar{Stage: s}
		if longest > 0 {
			out[i].Percent = int(s.Seconds / longest * 100)
		}
	}
	return out
}

// bootTests are the boot tests the build's record holds, as its worker
// reported them (the build fails when one does not pass).
func bootTests(b *store.Build) []bootcheck.Result {
	var boots []bootcheck.Result
	json.Unmarshal(b.BootTests, &boots)
	return boots
}

// maxShown bounds the log a page carries; the rest is in the download.
const maxShown = 4 << 20

func readLog(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, maxShown))
	return string(data)
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	b, ok := s.get(w, r)
	if !ok {
		return
	}
	after, err := s.Store.Cancel(r.Context(), b.ID)
	if err != nil && !errors.Is(err, store.ErrFinished) {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if err == nil && after.State == store.Cancelled {
		s.Queue.Changed(r.Context(), b.ID, "")
	}
	s.Log.Info("build cancel asked from the web page", "build", b.ID)
	http.Redirect(w, r, "/builds/"+b.ID, http.StatusSeeOther)
}

func (s *Server) workers(w http.ResponseWriter, r *http.Request) {
	all, err := s.Store.Workers(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	now := time.Now()
	for _, wk := range all {
		wk.State = wk.Status(now, s.Queue.Lease)
	}
	// A busy worker links the builds it runs.
	running, err := s.Store.List(r.Context(), store.Filter{State: string(store.Running), Limit: 1000})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	builds := map[string][]string{}
	for _, b := range running {
		builds[b.Worker] = append(builds[b.Worker], b.ID)
	}
	s.render(w, r, http.StatusOK, "workers", map[string]any{"Workers": all, "Builds": builds})
}
