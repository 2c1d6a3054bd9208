package fbstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// FTPServer is an FTP server on 127.0.0.1 that takes anonymous uploads
// into Dir: Debian's pyftpdlib, run by the test.
type FTPServer struct {
	Addr, Dir string
	cmd       *exec.Cmd
}

// StartFTP starts one; it stops when the test ends.
func StartFTP(t testing.TB) *FTPServer {
	t.Helper()
	_, err := os.Stat("/usr/lib/python3/dist-packages/pyftpdlib")
	NeedTB(t, err == nil, "pyftpdlib", "apt-get install python3-pyftpdlib")
	s := &FTPServer{Dir: t.TempDir()}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server, on its old address if it had one.
func (s *FTPServer) Start(t testing.TB) {
	t.Helper()
	if s.Addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.Addr = ln.Addr().String()
		ln.Close()
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("/usr/bin/python3", "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", port, "-w", "-d", s.Dir)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pyftpdlib did not listen on %s", s.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server.
func (s *FTPServer) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// URL is the server's ftp:// URL for dir.
func (s *FTPServer) URL(dir string) string { return fmt.Sprintf("ftp://%s/%s", s.Addr, dir) }
