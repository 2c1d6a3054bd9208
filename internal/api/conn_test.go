package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fbs/internal/farm"
	"fbs/internal/store"
)

// short are limits a test can outlast: Write and Read well below the
// transfers it makes.
var short = Limits{Header: 300 * time.Millisecond, Read: 300 * time.Millisecond, Write: 400 * time.Millisecond, Idle: 300 * time.Millisecond, Stall: 300 * time.Millisecond, Conns: 1}

// limited serves s with its HTTPServer and Listener; it answers the URL.
func limited(t *testing.T, s *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.HTTPServer()
	go hs.Serve(s.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// closedWithin says whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowClientsDropped: a body that stalls and a kept-alive connection
// without a request are dropped at their limits.
func TestSlowClientsDropped(t *testing.T) {
	s := newServer(t)
	s.Limits = short
	url := limited(t, s)
	addr := strings.TrimPrefix(url, "http://")

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "POST /api/v1/builds HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	if !closedWithin(slow, 3*time.Second) {
		t.Error("a stalled body kept its connection")
	}

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /api/v1/builds HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if !closedWithin(idle, 3*time.Second) {
		t.Error("an idle kept-alive connection stayed open")
	}
}

// slowBody is a body that comes a read at a time, gap apart.
type slowBody struct {
	r   *bytes.Reader
	gap time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	time.Sleep(b.gap)
	return b.r.Read(p)
}

// TestLongTransfers: an upload, a download and the log's live stream
// that each last longer than Read and Write, data moving all along, go
// through; while the stream holds the one connection allowed, another
// client waits to be accepted.
func TestLongTransfers(t *testing.T) {
	s := newServer(t)
	s.Limits = short
	url := limited(t, s)
	ctx := context.Background()
	tok, job := claimed(t, s, url)

	chunk := bytes.Repeat([]byte("x"), 64<<10)
	data := bytes.Repeat(chunk, 8)
	req, _ := http.NewRequest("PUT", url+"/api/worker/v1/builds/"+job.Build.ID+"/artifacts/x.iso", &slowBody{bytes.NewReader(data), 50 * time.Millisecond})
	req.ContentLength = int64(len(data))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(farm.LeaseHeader, job.Lease.Token)
	req.Header.Set(farm.SHA256Header, hexSum(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("a slow upload: %v %v", resp, err)
	}
	resp.Body.Close()

	// The download, read slower than Write allows in all (8 MiB: more
	// than the sockets' buffers hold).
	big := bytes.Repeat(chunk, 128)
	if err := s.Queue.PutArtifact(ctx, &store.Lease{BuildID: job.Build.ID, Worker: "b1", Token: job.Lease.Token}, "big.iso", int64(len(big)), hexSum(big), bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(url + "/api/v1/builds/" + job.Build.ID + "/artifacts/big.iso")
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	for {
		n, err := io.CopyN(io.Discard, resp.Body, 1<<20)
		got += n
		if err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp.Body.Close()
	if got != int64(len(big)) {
		t.Errorf("a slow download got %d of %d bytes", got, len(big))
	}

	// The live stream, past Write, holding the only connection.
	req, _ = http.NewRequest("GET", url+"/api/v1/builds/"+job.Build.ID+"/log", nil)
	req.Header.Set("Accept", "text/event-stream")
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	other := &http.Client{Timeout: 300 * time.Millisecond}
	if r, err := other.Get(url + "/api/v1/builds"); err == nil {
		r.Body.Close()
		t.Error("a second connection was served beyond Conns")
	}
	time.Sleep(2 * short.Write)
	if _, err := s.Queue.AppendLog(ctx, &store.Lease{BuildID: job.Build.ID, Worker: "b1", Token: job.Lease.Token}, job.LogOffset, []byte("late line\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for found := false; !found; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the late line")
			}
			found = l == "data: late line"
		case <-deadline:
			t.Fatal("the late line never came")
		}
	}
	stream.Body.Close()
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
