package api

import (
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what a client may hold the server for. Header, Read and
// Write end a request at a fixed time, Idle a kept-alive connection
// without a request; Conns bounds the connections at once (more wait to
// be accepted). Long transfers (an artifact's upload or download, a log,
// the log's live stream) would not fit in Read or Write: those handlers
// move their deadlines on as data moves, and give up after Stall without.
type Limits struct {
	Header, Read, Write, Idle, Stall time.Duration
	Conns                            int
}

// DefaultLimits: a request's body (a spec, a form) comes within 30 s; a
// claim's long poll (MaxClaimWait) and every plain answer fit in Write;
// a worker calls again within half a lease, well inside Idle.
var DefaultLimits = Limits{Header: 10 * time.Second, Read: 30 * time.Second, Write: 2 * time.Minute, Idle: 30 * time.Second, Stall: time.Minute, Conns: 1024}

func (s *Server) limits() Limits {
	if s.Limits == (Limits{}) {
		return DefaultLimits
	}
	return s.Limits
}

// HTTPServer is the server's http.Server, with its Limits.
func (s *Server) HTTPServer() *http.Server {
	l := s.limits()
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: l.Header, ReadTimeout: l.Read, WriteTimeout: l.Write, IdleTimeout: l.Idle}
}

// Listener bounds ln to Limits.Conns connections at once.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, s.limits().Conns)
}

// longBody lets r's body take as long as it keeps coming: its read
// deadline, and the answer's write deadline, move on by Stall with each read.
func (s *Server) longBody(w http.ResponseWriter, r *http.Request) {
	r.Body = &stallReader{ReadCloser: r.Body, rc: http.NewResponseController(w), stall: s.limits().Stall}
}

type stallReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
}

func (b *stallReader) Read(p []byte) (int, error) {
	b.rc.SetReadDeadline(time.Now().Add(b.stall))
	b.rc.SetWriteDeadline(time.Now().Add(b.stall))
	return b.ReadCloser.Read(p)
}

// longAnswer is w for an answer that takes as long as the client keeps
// reading: its write deadline moves on by Stall with each write.
func (s *Server) longAnswer(w http.ResponseWriter) http.ResponseWriter {
	return &stallWriter{ResponseWriter: w, rc: http.NewResponseController(w), stall: s.limits().Stall}
}

type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets a ResponseController reach the connection's writer.
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
