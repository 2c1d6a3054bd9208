//go:build e2e

package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is a running fbs serve.
type server struct {
	cmd *exec.Cmd
	url string
}

// startServer starts fbs serve on a free port and learns its address from it.
func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	cmd := exec.Command(fbsBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", data, "--cache", cache, "--lease", "4s"}, extra...)...)
	stdout, _ := cmd.StdoutPipe()
	log, _ := os.OpenFile(data+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "fbs: listening on ") {
		cmd.Process.Kill()
		t.Fatalf("fbs serve said %q", sc.Text())
	}
	s := &server{cmd: cmd, url: strings.TrimPrefix(sc.Text(), "fbs: listening on ")}
	go func() {
		for sc.Scan() {
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	return s
}

// status reads a build through the CLI client.
func status(t *testing.T, url, id string) map[string]any {
	t.Helper()
	out, err := exec.Command(fbsBin, "status", id, "--json", "--server", url).Output()
	if err != nil {
		t.Fatalf("fbs status %s: %v", id, err)
	}
	var b map[string]any
	json.Unmarshal(out, &b)
	return b
}

// waitFor polls the build until cond holds.
func waitFor(t *testing.T, url, id string, within time.Duration, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b := status(t, url, id)
		if cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s: still %v after %s", id, b["state"], within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// download fetches the build's artifacts with fbs download and checks
// the ISO against the CHECKSUM file.
func download(t *testing.T, url, id string) {
	t.Helper()
	dl := t.TempDir()
	if res := fbs(t, "download", id, "--server", url, "--dir", dl); res.code != 0 {
		t.Fatalf("download: exit %d", res.code)
	}
	isos, _ := filepath.Glob(filepath.Join(dl, "FBS-Test-*.iso"))
	sums, _ := filepath.Glob(filepath.Join(dl, "FBS-Test-*-CHECKSUM"))
	if len(isos) != 1 || len(sums) != 1 {
		t.Fatalf("downloaded %v %v", isos, sums)
	}
	sum, _ := os.ReadFile(sums[0])
	mustContain(t, "CHECKSUM", string(sum), sha256File(t, isos[0]))
}

func submitted(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "fbs:" && f[1] == "build" {
			return f[2]
		}
	}
	t.Fatalf("no build id in %q", out)
	return ""
}

// TestServe: submit through the CLI and wait, download, cancel a running
// build, and kill -9 the server mid-build: the restarted server requeues the
// build and finishes it.
func TestServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data)
	t.Cleanup(func() {
		b, _ := os.ReadFile(data + ".log")
		t.Logf("fbs serve logs:\n%s", b)
	})

	conf := request(t, "file://"+demoDir, "echo served > /etc/issue", "")
	res := fbs(t, "submit", conf, "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("submit --wait: exit %d", res.code)
	}
	mustContain(t, "submit output", res.out, "=== stage squashfs", "succeeded")
	id := submitted(t, res.out)
	download(t, s.url, id)
	// The same server's pages show it.
	for path, wants := range map[string][]string{"/builds": {id, "succeeded"}, "/builds/" + id: {"=== stage squashfs", "FBS-Test-", "sha256"}, "/workers": {"-serve", "idle"}} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustContain(t, "page "+path, string(page), wants...)
	}
	// Cancel a build while its %post sleeps.
	res = fbs(t, "submit", request(t, "file://"+demoDir, "sleep 1001", ""), "--server", s.url)
	id = submitted(t, res.out)
	waitFor(t, s.url, id, 2*time.Minute, func(b map[string]any) bool { return running("sleep 1001") })
	start := time.Now()
	if res := fbs(t, "cancel", id, "--server", s.url); res.code != 0 {
		t.Fatalf("cancel: exit %d", res.code)
	}
	waitFor(t, s.url, id, 20*time.Second, func(b map[string]any) bool { return b["state"] == "cancelled" })
	t.Logf("cancelled in %s", time.Since(start))
	if running("sleep 1001") {
		t.Errorf("the cancelled build's %%post still runs")
	}
	if res := fbs(t, "cancel", id, "--server", s.url); res.code != 2 || !strings.Contains(res.out, "has finished") {
		t.Errorf("cancel of a cancelled build: exit %d", res.code)
	}

	// kill -9 the server while a build runs; a new server finishes it.
	res = fbs(t, "submit", request(t, "file://"+demoDir, "sleep 6; echo second > /etc/issue", ""), "--server", s.url)
	id = submitted(t, res.out)
	waitFor(t, s.url, id, 2*time.Minute, func(b map[string]any) bool { return running("sleep 6") })
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // the server and the fbs it re-executed
	s.cmd.Process.Kill()
	s.cmd.Wait()
	time.Sleep(500 * time.Millisecond)
	if running("sleep 6") {
		t.Error("the killed server's build still runs")
	}
	s2 := startServer(t, data)
	b := waitFor(t, s2.url, id, 3*time.Minute, func(b map[string]any) bool { return b["state"] == "succeeded" || b["state"] == "failed" })
	if b["state"] != "succeeded" || b["attempts"].(float64) != 2 {
		t.Errorf("after the restart: %v", b)
	}
	if res := fbs(t, "logs", id, "--server", s2.url); strings.Count(res.out, "=== stage post\n") != 2 {
		t.Errorf("the log does not show both attempts")
	}

	// SIGTERM: the running build goes back to the queue at once, and the
	// next server builds it without counting the interrupted attempt.
	res = fbs(t, "submit", request(t, "file://"+demoDir, "sleep 7; echo third > /etc/issue", ""), "--server", s2.url)
	id = submitted(t, res.out)
	waitFor(t, s2.url, id, 2*time.Minute, func(b map[string]any) bool { return running("sleep 7") })
	s2.cmd.Process.Signal(syscall.SIGTERM)
	if err := s2.cmd.Wait(); err != nil {
		t.Errorf("fbs serve after SIGTERM: %v", err)
	}
	s3 := startServer(t, data)
	b = waitFor(t, s3.url, id, 3*time.Minute, func(b map[string]any) bool { return b["state"] == "succeeded" || b["state"] == "failed" })
	if b["state"] != "succeeded" || b["attempts"].(float64) != 1 {
		t.Errorf("after SIGTERM and a restart: %v", b)
	}
}

// TestServeTLS: with a certificate the server speaks HTTPS; the CLI trusts
// it through --ca-file, and refuses it without.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	s := startServer(t, filepath.Join(dir, "data"), "--workers", "0", "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("url %s", s.url)
	}
	if res := fbs(t, "list", "--server", s.url, "--ca-file", cert); res.code != 0 {
		t.Errorf("with the CA: exit %d", res.code)
	}
	if res := fbs(t, "list", "--server", s.url); res.code == 0 || !strings.Contains(res.out, "certificate") {
		t.Errorf("without the CA: exit %d", res.code)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fbs test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(priv)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(t, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, key, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	return cert, key
}
