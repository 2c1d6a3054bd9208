//go:build e2e

package e2e

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"fbs/internal/fbstest"
)

// TestStagingRemote: fbs build stages the demo ISO, its kickstart,
// CHECKSUM, manifest and log on a real FTP server (pyftpdlib) and on an
// S3-compatible store (gofakes3, reached through the AWS variables), with
// the upload's progress in the log; a bucket that does not exist fails
// the build cleanly, every artifact left in the work dir.
func TestStagingRemote(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	s3 := s3mem.New()
	s3.CreateBucket("media")
	ts := httptest.NewServer(gofakes3.New(s3).Server())
	defer ts.Close()
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": ts.URL, "AWS_ACCESS_KEY_ID": "fbs", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"} {
		t.Setenv(k, v)
	}

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
	mustContain(t, "staged log", string(log), "upload "+filepath.Base(isos[0])+":", "MiB/s", "staged ftp://"+ftp.Addr+"/incoming/live/"+filepath.Base(isos[0]))
	mustContain(t, "output", res.out, "ftp://"+ftp.Addr+"/incoming/live/"+filepath.Base(isos[0]))
	if parts, _ := filepath.Glob(filepath.Join(dir, ".*")); len(parts) > 0 {
		t.Errorf("temporary files left: %v", parts)
	}

	res = fbs(t, "build", request(t, "file://"+demoDir, "true", "staging=s3://media/fedora/live"), "--cache", cache, "--work", t.TempDir())
	if res.code != 0 {
		t.Fatalf("s3 staging: exit %d", res.code)
	}
	mustContain(t, "output", res.out, "s3://media/fedora/live/FBS-Test-", ".iso")

	work := t.TempDir()
	res = fbs(t, "build", request(t, "file://"+demoDir, "true", "staging=s3://no-such-bucket/x"), "--cache", cache, "--work", work)
	if res.code != 1 {
		t.Fatalf("a missing bucket: exit %d", res.code)
	}
	mustContain(t, "output", res.out, "staging to s3://no-such-bucket/x", "attempt 1 of 5", "the artifacts stay in")
	left, _ := filepath.Glob(filepath.Join(work, "*", "*.iso"))
	if len(left) != 1 {
		t.Errorf("the ISO is not in the work dir: %v", left)
	}
	if !strings.Contains(res.out, "NoSuchBucket") && !strings.Contains(res.out, "does not exist") {
		t.Errorf("the error does not say what the store said:\n%s", res.out)
	}
}
