package kickstart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jlaffaye/ftp"

	"fbs/internal/egress"
)

// FileLoader loads kickstarts from paths and http/https/ftp URLs. A relative
// reference resolves against the file or URL that named it, or Dir for the top one.
// With NoLocal set (requests that came over the network), local paths are
// refused and URLs are fetched only from addresses Egress allows (the
// server's own machine, link-local and private networks are not, unless
// the operator allowed them), checked on each connection and redirect.
type FileLoader struct {
	Dir     string
	NoLocal bool
	Egress  *egress.Policy
}

func (f *FileLoader) Load(ctx context.Context, ref, base string) (string, []byte, error) {
	target, err := resolve(ref, base, f.Dir)
	if err != nil {
		return "", nil, err
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Scheme == "file" {
		path := target
		if u != nil && u.Scheme == "file" {
			path = u.Path
		}
		if f.NoLocal {
			return "", nil, fmt.Errorf("%s: a request sent over the network cannot name a local file; put the kickstart in the request or give an http/https/ftp URL", ref)
		}
		data, err := readLimited(os.Open(path))
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if err != nil {
			return "", nil, fmt.Errorf("read %s: %w", path, err)
		}
		return path, data, nil
	}
	switch u.Scheme {
	case "http", "https":
		data, err := f.get(ctx, target)
		return target, data, err
	case "ftp":
		dialer := &net.Dialer{Timeout: 30 * time.Second}
		if f.NoLocal {
			dialer = f.Egress.Dialer(30 * time.Second)
		}
		data, err := ftpGet(ctx, u, dialer)
		return target, data, err
	}
	return "", nil, fmt.Errorf("%s: scheme %q not supported (a path, http, https or ftp)", ref, u.Scheme)
}

func resolve(ref, base, dir string) (string, error) {
	if strings.Contains(ref, "://") {
		return ref, nil
	}
	if base != "" && strings.Contains(base, "://") {
		b, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		r, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("%s: %v", ref, err)
		}
		return b.ResolveReference(r).String(), nil
	}
	if filepath.IsAbs(ref) {
		return ref, nil
	}
	if base != "" {
		return filepath.Join(filepath.Dir(base), ref), nil
	}
	return filepath.Join(dir, ref), nil
}

func (f *FileLoader) get(ctx context.Context, target string) ([]byte, error) {
	c := &http.Client{Timeout: time.Minute}
	if f.NoLocal {
		c = f.Egress.Client(time.Minute)
	}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	// Errors leave the URL out: the caller names it, and an included URL
	// is text of the including file, which may not be quoted (Error).
	resp, err := c.Do(req)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch: %s", resp.Status)
	}
	return readAll(resp.Body)
}

// ftpGet fetches u; dialer makes the control connection and the data
// connections (at the control connection's address, not one the server
// names: the client does not trust a PASV answer's address).
func ftpGet(ctx context.Context, u *url.URL, dialer *net.Dialer) ([]byte, error) {
	host := u.Host
	if u.Port() == "" {
		host += ":21"
	}
	c, err := ftp.Dial(host, ftp.DialWithContext(ctx), ftp.DialWithDialer(*dialer))
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	defer c.Quit()
	user, pass := "anonymous", "anonymous"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	if err := c.Login(user, pass); err != nil {
		return nil, fmt.Errorf("ftp: login: %w", err)
	}
	r, err := c.Retr(u.Path)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	defer r.Close()
	return readAll(r)
}

// readLimited reads a kickstart file, refusing devices and FIFOs, which
// could block a build forever or feed it without end.
func readLimited(f *os.File, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return readAll(f)
}

// readAll reads a file, at most maxSize bytes (the whole kickstart's bound).
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("larger than %d KiB", maxSize>>10)
	}
	return data, nil
}

// Inline serves a kickstart given as text (a request's "kickstart" field)
// under Name; other references go to Next, those it includes resolved as
// Next resolves a top-level reference.
type Inline struct {
	Name, Text string
	Next       Loader
}

func (i Inline) Load(ctx context.Context, ref, base string) (string, []byte, error) {
	switch {
	case ref == i.Name && base == "":
		return i.Name, []byte(i.Text), nil
	case base == i.Name:
		base = ""
	}
	return i.Next.Load(ctx, ref, base)
}
