package api

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"fbs/internal/queue"
)

// pollEvery is how often a followed log is checked for new lines.
const pollEvery = 300 * time.Millisecond

// log serves the build's log so far, or with Accept: text/event-stream a
// live stream of its lines (each event's id is the byte offset after it,
// so Last-Event-ID resumes) that ends when the build does.
func (s *Server) log(w http.ResponseWriter, r *http.Request) {
	b, ok := s.build(w, r)
	if !ok {
		return
	}
	if b.Purged != nil {
		fail(w, http.StatusGone, fmt.Errorf("build %s's log was removed by retention on %s", b.ID, b.Purged.Format(time.DateOnly)))
		return
	}
	path := queue.LogPath(s.Data, b.ID)
	if r.Header.Get("Accept") != "text/event-stream" {
		f, err := os.Open(path)
		if err != nil {
			if b.State == "queued" {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				return // no log before the build starts
			}
			fail(w, http.StatusNotFound, fmt.Errorf("build %s has no log", b.ID))
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.Copy(s.longAnswer(w), f)
		return
	}
	asHTML := r.URL.Query().Get("html") == "1"
	// Last-Event-ID resumes a stream; ?from=N starts one after the N bytes
	// a page already shows.
	var offset int64
	if id := cmp.Or(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("from")); id != "" {
		offset, _ = strconv.ParseInt(id, 10, 64)
		offset = max(offset, 0)
	}
	// The stream lasts as long as the build: each round moves the write
	// deadline on, so only a client that stops reading is dropped.
	rc := http.NewResponseController(w)
	stall := s.limits().Stall
	rc.SetWriteDeadline(time.Now().Add(stall))
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	waiting := ""
	for {
		n, err := sendLines(w, path, offset, asHTML)
		offset += n
		if flusher != nil {
			flusher.Flush()
		}
		if err != nil {
			return
		}
		cur, err := s.Store.Get(r.Context(), b.ID)
		if err != nil {
			return
		}
		if s.Queue.Waiting(r.Context(), cur); cur.Waiting != waiting {
			// Not a log line: no id, so a resumed stream says it again.
			waiting = cur.Waiting
			fmt.Fprintf(w, "event: status\ndata: %s\n\n", cmp.Or(prefixed("waiting: ", waiting), "a worker took the build"))
		}
		if cur.State.Done() {
			// One last read: lines written just before the end.
			n, _ := sendLines(w, path, offset, asHTML)
			offset += n
			fmt.Fprintf(w, "event: end\nid: %d\ndata: %s\n\n", offset, cur.State)
			if flusher != nil {
				flusher.Flush()
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(pollEvery):
		}
		rc.SetWriteDeadline(time.Now().Add(stall))
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// sendLines sends the whole lines of path from offset as events and
// returns how many bytes it sent.
// With asHTML each line goes as an HTML-escaped <div> (the web page
// appends them to its log: a log line is never markup).
func sendLines(w io.Writer, path string, offset int64, asHTML bool) (int64, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	var sent int64
	rd := bufio.NewReader(f)
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			return sent, nil // a partial last line waits for its newline
		}
		sent += int64(len(line))
		data := string(bytes.TrimRight(line, "\r\n"))
		if asHTML {
			class := ""
			if IsErrorLine(data) {
				class = ` class="err"`
			}
			data = "<div" + class + ">" + html.EscapeString(data) + "</div>"
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", offset+sent, data); err != nil {
			return sent, err
		}
	}
}
