package web

import (
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/url"
	"testing"
)

// FuzzForm: whatever the submit form carries is a request or an error by
// a field, never a crash; an accepted request put back into the form is
// the same request.
func FuzzForm(f *testing.F) {
	f.Add("live", "x86_64", "40", "zstd", miniKS, "kernel-6.1-1.fc41", "1 2", "qa@example.org", "")
	f.Add("boot", "aarch64", "rawhide", "", "", "", "", "", "ftp://h/d")
	f.Add("dvd", "x86_64", "41", "xz", "%include /etc/passwd\n", "a-b", "x", "<a@b>", "file:///etc")
	f.Fuzz(func(t *testing.T, typ, arch, release, comp, ks, nvr, bid, email, staging string) {
		v := url.Values{"type": {typ}, "arch": {arch}, "release": {release}, "compression": {comp}, typ + ".kickstart_text": {ks},
			"nvr": {nvr}, "bid": {bid}, "email": {email}, "staging": {staging}, "boot.repo_url": {"https://m/os/"}, "boot.timeout": {bid}}
		req, err := fromForm(context.Background(), &multipart.Form{Value: v}, nil)
		var fe *fieldError
		switch {
		case errors.As(err, &fe):
			return
		case err != nil:
			t.Fatalf("not an error by a field: %v", err)
		}
		again, err := fromForm(context.Background(), &multipart.Form{Value: toForm(req)}, nil)
		if err != nil {
			t.Fatalf("the accepted request back from the form: %v", err)
		}
		a, _ := json.Marshal(req)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("round trip:\n%s\n%s", a, b)
		}
	})
}
