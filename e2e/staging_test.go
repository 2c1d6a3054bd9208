//go:build e2e

package e2e

import (
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"fbs/internal/fbstest"
)

// TestStagingRemote: fbs build publishes the demo ISO, its kickstart,
// CHECKSUM, manifest and log on a real FTP server (pyftpdlib) and on an
// S3-compatible store (gofakes3, reached through the --s3-* flags), with
// the upload's progress in the log; a bucket that does not exist fails
// the build cleanly, every artifact left in the work dir.
func TestStagingRemote(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	s3 := s3mem.New()
	s3.CreateBucket("media")
	ts := httptest.NewServer(gofakes3.New(s3).Server())
	defer ts.Close()
	keys := t.TempDir()
	write(t, filepath.Join(keys, "access"), "fbs\n")
	write(t, filepath.Join(keys, "secret"), "secret\n")
	s3Flags := []string{"--s3-endpoint", ts.URL, "--s3-region", "us-east-1",
		"--s3-access-key-file", filepath.Join(keys, "access"), "--s3-secret-key-file", filepath.Join(keys, "secret")}

	res := fbs(t, "build", request(t, "file://"+demoDir, "true", "staging="+ftp.URL("incoming/live")), "--cache", cache, "--work", t.TempDir())
	if res.code != 0 {
		t.Fatalf("ftp staging: exit %d", res.code)
	}
	dir := filepath.Join(ftp.Dir, "incoming", "live")
	isos, _ := filepath.Glob(filepath.Join(dir, "FBS-Test-*.iso"))
	sums, _ := filepath.Glob(filepath.Join(dir, "FBS-Test-*-CHECKSUM"))
	logs, _ := filepath.Glob(filepath.Join(dir, "FBS-Test-*.log"))
	if len(isos) != 1 || len(sums) != 1 || len(logs) != 1 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("on the FTP server: %v", entries)
	}
	sum, _ := os.ReadFile(sums[0])
	mustContain(t, "CHECKSUM", string(sum), sha256File(t, isos[0]))
	log, _ := os.ReadFile(logs[0])
	mustContain(t, "staged log", string(log), "upload "+filepath.Base(isos[0])+":", "MiB/s", "published ftp://"+ftp.Addr+"/incoming/live/"+filepath.Base(isos[0]))
	mustContain(t, "output", res.out, "ftp://"+ftp.Addr+"/incoming/live/"+filepath.Base(isos[0]))
	if parts, _ := filepath.Glob(filepath.Join(dir, ".*")); len(parts) > 0 {
		t.Errorf("temporary files left: %v", parts)
	}

	res = fbs(t, append([]string{"build", request(t, "file://"+demoDir, "true", "staging=s3://media/fedora/live"), "--cache", cache, "--work", t.TempDir()}, s3Flags...)...)
	if res.code != 0 {
		t.Fatalf("s3 staging: exit %d", res.code)
	}
	mustContain(t, "output", res.out, "s3://media/fedora/live/FBS-Test-", ".iso")

	work := t.TempDir()
	res = fbs(t, append([]string{"build", request(t, "file://"+demoDir, "true", "staging=s3://no-such-bucket/x"), "--cache", cache, "--work", work}, s3Flags...)...)
	if res.code != 1 {
		t.Fatalf("a missing bucket: exit %d", res.code)
	}
	mustContain(t, "output", res.out, "publishing to s3://no-such-bucket/x", "attempt 1 of 5", "the artifacts stay in")
	left, _ := filepath.Glob(filepath.Join(work, "*", "*.iso"))
	if len(left) != 1 {
		t.Errorf("the ISO is not in the work dir: %v", left)
	}
	if !strings.Contains(res.out, "NoSuchBucket") && !strings.Contains(res.out, "does not exist") {
		t.Errorf("the error does not say what the store said:\n%s", res.out)
	}
}

// TestServeStagingAndMail: fbs serve builds a request that asks for FTP
// staging and email: the ISO and the log land on the FTP server, the requester gets
// an email on acceptance and one at the end, the server's webhook hears
// each state, signed, and the build's status says each was delivered;
// fbs build emails the same way.
func TestServeStagingAndMail(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	mail := fbstest.StartSMTP(t, false)
	hook := fbstest.StartWebhook(t, "hook-secret")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "hook.secret"), "hook-secret\n")
	host, port, _ := net.SplitHostPort(mail.Addr)
	smtp := []string{"--smtp-host", host, "--smtp-port", port, "--smtp-security", "none", "--smtp-from", "fbs@example.org"}
	s := startServer(t, filepath.Join(dir, "data"), append(smtp, "--webhook", hook.URL, "--webhook-secret-file", filepath.Join(dir, "hook.secret"))...)

	conf := request(t, "file://"+demoDir, "true", "staging="+ftp.URL("served")+"\nemail=qa@example.org")
	res := fbs(t, "submit", conf, "--server", s.url, "--wait")
	if res.code != 0 {
		t.Fatalf("submit --wait: exit %d", res.code)
	}
	id := submitted(t, res.out)
	// The build publishes, as fbs build does: its stage table's last line.
	if !regexp.MustCompile(`(?m)^  publish +\d+\.\ds  ftp://`).MatchString(res.out) {
		t.Errorf("no publish stage in the output:\n%s", res.out)
	}
	isos, _ := filepath.Glob(filepath.Join(ftp.Dir, "served", "FBS-Test-*.iso"))
	logs, _ := filepath.Glob(filepath.Join(ftp.Dir, "served", "FBS-Test-*.log"))
	if len(isos) != 1 || len(logs) != 1 {
		t.Fatalf("on the FTP server: %v %v", isos, logs)
	}
	b := waitFor(t, s.url, id, 30*time.Second, func(b map[string]any) bool {
		ns, _ := b["notifications"].([]any)
		sent := 0
		for _, n := range ns {
			if n.(map[string]any)["state"] == "sent" {
				sent++
			}
		}
		return sent == 5 // two emails, three webhook calls
	})
	t.Logf("notifications: %v", b["notifications"])
	msgs := mail.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d emails", len(msgs))
	}
	mustContain(t, "the last email", msgs[1], "Subject: [fbs] live x86_64 build succeeded: "+id, "/artifacts/"+filepath.Base(isos[0]), "sha256 "+sha256File(t, isos[0]))
	if events := hook.Events(); strings.Join(events, " ") != "queued running succeeded" {
		t.Errorf("webhook events %v", events)
	}

	res = fbs(t, append([]string{"build", request(t, "file://"+demoDir, "true", "email=dev@example.org"), "--cache", cache, "--work", t.TempDir()}, smtp...)...)
	if res.code != 0 {
		t.Fatalf("fbs build: exit %d", res.code)
	}
	mustContain(t, "fbs build", res.out, "email to dev@example.org: sent")
	if msgs := mail.Messages(); len(msgs) != 4 || !strings.Contains(msgs[3], "build succeeded") || !strings.Contains(msgs[3], "To: <dev@example.org>") {
		t.Errorf("fbs build's emails: %d", len(msgs))
	}
}
