package cli

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/store"
)

// client talks to fbs serve's API.
type client struct {
	base  string
	token string
	http  *http.Client
	err   error // reading the token
}

// serverFlags say which server, the user token to show it, and the CA
// that signed its certificate when it is not one the system trusts.
type serverFlags struct{ server, tokenFile, caFile string }

// defaultServer is the server the commands call without --server.
func defaultServer() string { return cmp.Or(os.Getenv("FBS_SERVER"), "http://127.0.0.1:8080") }

func serverFlag(cmd *cobra.Command) *serverFlags {
	var f serverFlags
	cmd.Flags().StringVar(&f.server, "server", defaultServer(), "the fbs server ($FBS_SERVER)")
	caFlag(cmd, &f.caFile)
	cmd.Flags().StringVar(&f.tokenFile, "token-file", os.Getenv("FBS_TOKEN_FILE"), "file with a user token, for a server that asks for one ($FBS_TOKEN_FILE, or the token in $FBS_TOKEN)")
	return &f
}

func newClient(f *serverFlags) *client {
	c := &client{base: strings.TrimSuffix(f.server, "/"), token: os.Getenv("FBS_TOKEN")}
	c.http, c.err = httpClient(f.caFile)
	if f.tokenFile != "" && c.err == nil {
		c.token, c.err = readToken(f.tokenFile)
	}
	return c
}

func caFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "ca-file", os.Getenv("FBS_CA_FILE"), "PEM file of the CA that signed the server's certificate, if the system does not trust it ($FBS_CA_FILE)")
}

// httpClient trusts the system's CAs, and the one in caFile if given.
func httpClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return &http.Client{}, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr}, nil
}

// readToken reads a token file: the token, with space around it ignored.
func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return t, nil
}

// command is the fbs command line that does what with id on this server.
func (c *client) command(what, id string) string {
	line := "fbs " + what + " " + id
	if c.base != strings.TrimSuffix(defaultServer(), "/") {
		line += " --server " + c.base
	}
	return line
}

// request makes a request to the server, with the token.
func (c *client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	if c.err != nil {
		return nil, c.err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err == nil && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, err
}

// serverError is the API saying no; a 4xx is the caller's to fix.
type serverError struct {
	Status int
	Msg    string `json:"error"`
	Field  string `json:"field"`
}

func (e *serverError) Error() string  { return "server: " + e.Msg }
func (e *serverError) BadInput() bool { return e.Status >= 400 && e.Status < 500 }

func (c *client) do(ctx context.Context, method, path, ctype string, body io.Reader, out any) error {
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("fbs server %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		e := &serverError{Status: resp.StatusCode}
		if json.NewDecoder(resp.Body).Decode(e) != nil || e.Msg == "" {
			e.Msg = resp.Status
		}
		return e
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func (c *client) build(ctx context.Context, id string) (*store.Build, error) {
	var b store.Build
	return &b, c.do(ctx, "GET", "/api/v1/builds/"+id, "", nil, &b)
}

// logSink takes a followed log's lines and the server's status notes.
type logSink interface {
	line(string)
	status(string)
}

// follow hands the build's log to sink as it grows until the build ends,
// and returns its final state. Dropped connections resume where they broke.
func (c *client) follow(ctx context.Context, id string, sink logSink) (store.State, error) {
	last := ""
	for {
		req, err := c.request(ctx, "GET", "/api/v1/builds/"+id+"/log", nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Accept", "text/event-stream")
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := c.http.Do(req)
		if err == nil && resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return "", &serverError{Status: resp.StatusCode, Msg: resp.Status}
		}
		if err == nil {
			var event string
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					event = strings.TrimPrefix(line, "event: ")
				case strings.HasPrefix(line, "id: "):
					last = strings.TrimPrefix(line, "id: ")
				case strings.HasPrefix(line, "data: "):
					data := strings.TrimPrefix(line, "data: ")
					switch event {
					case "end":
						resp.Body.Close()
						return store.State(data), nil
					case "status":
						sink.status(data)
					default:
						sink.line(data)
					}
				case line == "":
					event = ""
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second): // the server went away; try again
		}
	}
}
