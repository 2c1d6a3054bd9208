package publish

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jlaffaye/ftp"
)

// FTP publishes to an FTP server: anonymous unless the URL has a user,
// passive mode, explicit TLS for ftps://.
type FTP struct {
	Addr, Dir  string // host:port, and the directory on the server
	User, Pass string
	TLS        bool
}

func newFTP(u *url.URL) *FTP {
	f := &FTP{Addr: u.Host, Dir: path.Clean("/" + u.Path), User: "anonymous", Pass: "fbs@", TLS: u.Scheme == "ftps"}
	if u.Port() == "" {
		f.Addr = u.Hostname() + ":21"
	}
	if u.User != nil {
		f.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			f.Pass = p
		}
	}
	return f
}

func (f *FTP) String() string {
	scheme := "ftp"
	if f.TLS {
		scheme = "ftps"
	}
	return scheme + "://" + f.Addr + f.Dir
}

// connect logs in and changes to the target dir, making it if need be.
func (f *FTP) connect(ctx context.Context) (*ftp.ServerConn, error) {
	opts := []ftp.DialOption{ftp.DialWithContext(ctx), ftp.DialWithTimeout(30 * time.Second)}
	if f.TLS {
		host, _, _ := strings.Cut(f.Addr, ":")
		opts = append(opts, ftp.DialWithExplicitTLS(&tls.Config{ServerName: host}))
	}
	c, err := ftp.Dial(f.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("ftp %s: %w", f.Addr, err)
	}
	if err := c.Login(f.User, f.Pass); err != nil {
		c.Quit()
		return nil, fmt.Errorf("ftp %s: login as %s: %w: %w", f.Addr, f.User, err, ErrPermanent)
	}
	if err := c.ChangeDir(f.Dir); err != nil {
		dir := ""
		for _, part := range strings.Split(strings.Trim(f.Dir, "/"), "/") {
			dir += "/" + part
			c.MakeDir(dir) // an existing one is fine
		}
		if err := c.ChangeDir(f.Dir); err != nil {
			c.Quit()
			return nil, fmt.Errorf("ftp %s: directory %s: %w: %w", f.Addr, f.Dir, err, ErrPermanent)
		}
	}
	return c, nil
}

// size is a file's size on the server, or -1 if it is not there.
func size(c *ftp.ServerConn, name string) (int64, error) {
	n, err := c.FileSize(name)
	var perr *textproto.Error
	if errors.As(err, &perr) && perr.Code == ftp.StatusFileUnavailable {
		return -1, nil
	}
	return n, err
}

func (f *FTP) Exists(ctx context.Context, name string) (bool, error) {
	c, err := f.connect(ctx)
	if err != nil {
		return false, err
	}
	defer c.Quit()
	n, err := size(c, name)
	return n >= 0, err
}

func (f *FTP) Put(ctx context.Context, local, name string, sent func(int64)) (string, error) {
	src, total, err := openSized(local)
	if err != nil {
		return "", err
	}
	defer src.Close()
	c, err := f.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Quit()
	if n, err := size(c, name); err != nil || n >= 0 {
		return "", errors.Join(err, fmt.Errorf("%s/%s: %w", f, name, ErrExists))
	}
	part := "." + name + ".part"
	have, err := size(c, part)
	if err != nil {
		return "", fmt.Errorf("ftp %s: %w", part, err)
	}
	if have < 0 || have > total {
		have = 0
	}
	if _, err := src.Seek(have, io.SeekStart); err != nil {
		return "", err
	}
	r := &counter{r: src, n: have, sent: sent}
	if have > 0 {
		err = c.StorFrom(part, r, uint64(have)) // resume where the last attempt broke off
	} else {
		err = c.Stor(part, r)
	}
	if err != nil {
		return "", fmt.Errorf("ftp %s: upload %s: %w", f.Addr, part, err)
	}
	if got, err := size(c, part); err != nil || got != total {
		c.Delete(part)
		return "", errors.Join(err, fmt.Errorf("ftp %s: %s has %d bytes on the server, %d here", f.Addr, part, got, total))
	}
	// RNTO replaces a file on most servers: the name was checked free above,
	// and is checked again as close to the rename as FTP allows.
	if n, err := size(c, name); err != nil || n >= 0 {
		return "", errors.Join(err, fmt.Errorf("%s/%s: %w", f, name, ErrExists))
	}
	if err := c.Rename(part, name); err != nil {
		return "", fmt.Errorf("ftp %s: rename %s to %s: %w", f.Addr, part, name, err)
	}
	return f.String() + "/" + name, nil
}

func (f *FTP) Remove(ctx context.Context, name string) error {
	c, err := f.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Quit()
	return c.Delete(name)
}
