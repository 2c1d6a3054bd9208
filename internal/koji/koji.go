// Package koji fetches packages from a Koji build system: getBuild and
// listRPMs over Koji's XML-RPC hub, files from its topurl.
package koji

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kolo/xmlrpc"
)

// Fedora's Koji.
const (
	DefaultHub    = "https://koji.fedoraproject.org/kojihub"
	DefaultTopURL = "https://kojipkgs.fedoraproject.org/"
)

// Build states, as koji.BUILD_STATES numbers them.
var buildStates = map[int]string{0: "BUILDING", 1: "COMPLETE", 2: "DELETED", 3: "FAILED", 4: "CANCELED"}

// Build is what getBuild tells of a build.
type Build struct {
	ID          int    `xmlrpc:"id"`
	PackageName string `xmlrpc:"package_name"`
	Name        string `xmlrpc:"name"`
	Version     string `xmlrpc:"version"`
	Release     string `xmlrpc:"release"`
	NVR         string `xmlrpc:"nvr"`
	State       int    `xmlrpc:"state"`
	VolumeName  string `xmlrpc:"volume_name"`
}

// RPM is one of listRPMs' answers.
type RPM struct {
	ID          int    `xmlrpc:"id"`
	Name        string `xmlrpc:"name"`
	Version     string `xmlrpc:"version"`
	Release     string `xmlrpc:"release"`
	Arch        string `xmlrpc:"arch"`
	Size        int64  `xmlrpc:"size"`
	PayloadHash string `xmlrpc:"payloadhash"`
	BuildID     int    `xmlrpc:"build_id"`
}

// File is the RPM's file name.
func (r RPM) File() string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", r.Name, r.Version, r.Release, r.Arch)
}

// Debuginfo reports whether the RPM only carries debugging data.
func (r RPM) Debuginfo() bool {
	return strings.HasSuffix(r.Name, "-debuginfo") || strings.HasSuffix(r.Name, "-debugsource")
}

// Client talks to one Koji hub.
type Client struct {
	Hub, TopURL string
	HTTP        *http.Client
}

// Error is Koji saying no, or a build fbs cannot use: it names the build.
type Error struct {
	Build string // the NVR or build id as the request gave it
	Msg   string
	Bad   bool // the request is at fault (no such build, not complete, no RPM)
}

func (e *Error) Error() string  { return fmt.Sprintf("koji build %s: %s", e.Build, e.Msg) }
func (e *Error) BadInput() bool { return e.Bad }

// call makes one XML-RPC call and decodes its answer into reply.
func (c *Client) call(ctx context.Context, method string, reply any, args ...any) error {
	req, err := xmlrpc.NewRequest(c.Hub, method, args)
	if err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("koji hub %s: %w", c.Hub, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("koji hub %s: %w", c.Hub, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("koji hub %s: %s: %s", c.Hub, method, resp.Status)
	}
	r := xmlrpc.Response(bytes.TrimSpace(body))
	if err := r.Err(); err != nil {
		return err
	}
	if err := r.Unmarshal(reply); err != nil {
		return fmt.Errorf("koji hub %s: %s answered: %w", c.Hub, method, err)
	}
	return nil
}

// GetBuild looks a build up by NVR or build id. Unknown builds, and builds
// that are not COMPLETE, are errors naming the build.
func (c *Client) GetBuild(ctx context.Context, ref any) (Build, error) {
	name := fmt.Sprint(ref)
	var b Build
	err := c.call(ctx, "getBuild", &b, ref)
	var fault xmlrpc.FaultError
	switch {
	case errors.As(err, &fault):
		return b, &Error{Build: name, Msg: fmt.Sprintf("Koji says: %s (fault %d)", fault.String, fault.Code), Bad: true}
	case err != nil:
		return b, &Error{Build: name, Msg: err.Error()}
	case b.ID == 0:
		return b, &Error{Build: name, Msg: "Koji knows no such build", Bad: true}
	case plain(b.NVR) != nil || plain(b.Name) != nil || plain(b.Version) != nil || plain(b.Release) != nil:
		return b, &Error{Build: name, Msg: fmt.Sprintf("the hub answered a build named %q (%q %q %q): not a plain file name", b.NVR, b.Name, b.Version, b.Release)}
	case b.VolumeName != "" && plain(b.VolumeName) != nil:
		return b, &Error{Build: name, Msg: fmt.Sprintf("the hub answered a build on volume %q: not a plain name", b.VolumeName)}
	case b.State != 1:
		state := buildStates[b.State]
		if state == "" {
			state = fmt.Sprint(b.State)
		}
		return b, &Error{Build: name, Msg: fmt.Sprintf("%s is %s, not COMPLETE", b.NVR, state), Bad: true}
	}
	return b, nil
}

// ListRPMs lists a build's RPMs for arch and noarch, debuginfo left out.
func (c *Client) ListRPMs(ctx context.Context, b Build, arch string) ([]RPM, error) {
	var all []RPM
	kwargs := map[string]any{"__starstar": true, "arches": []string{arch, "noarch"}}
	if err := c.call(ctx, "listRPMs", &all, b.ID, kwargs); err != nil {
		var fault xmlrpc.FaultError
		if errors.As(err, &fault) {
			return nil, &Error{Build: b.NVR, Msg: fmt.Sprintf("listRPMs: Koji says: %s (fault %d)", fault.String, fault.Code)}
		}
		return nil, &Error{Build: b.NVR, Msg: "listRPMs: " + err.Error()}
	}
	var rpms []RPM
	for _, r := range all {
		if err := plain(r.File()); err != nil || plain(r.Arch) != nil {
			return nil, &Error{Build: b.NVR, Msg: fmt.Sprintf("listRPMs: the hub answered an RPM named %q (arch %q): not a plain file name", r.File(), r.Arch)}
		}
		if !r.Debuginfo() && (r.Arch == arch || r.Arch == "noarch") {
			if r.Size <= 0 {
				// The download stops at this size: without it, at nothing.
				return nil, &Error{Build: b.NVR, Msg: fmt.Sprintf("listRPMs: the hub answered no size for %s", r.File())}
			}
			rpms = append(rpms, r)
		}
	}
	if len(rpms) == 0 {
		return nil, &Error{Build: b.NVR, Msg: fmt.Sprintf("has no RPM for %s or noarch", arch), Bad: true}
	}
	return rpms, nil
}

// plain checks a name the hub gave before it names a file here (the
// cache is <NVR>/<RPM file>) or a path on the topurl.
func plain(s string) error {
	if s == "" || s == "." || s == ".." || len(s) > 255 || strings.HasPrefix(s, ".") || strings.ContainsAny(s, "/\\\x00") {
		return fmt.Errorf("%q is not a plain file name", s)
	}
	return nil
}

// URL is where the RPM lies under topurl: the build's name, version and
// release in the path, the RPM's arch and file name (and vol/<volume>/ for a
// build on another volume than DEFAULT).
func (c *Client) URL(b Build, r RPM) string {
	top := strings.TrimSuffix(c.TopURL, "/")
	if b.VolumeName != "" && b.VolumeName != "DEFAULT" {
		top += "/vol/" + b.VolumeName
	}
	return fmt.Sprintf("%s/packages/%s/%s/%s/%s/%s", top, b.Name, b.Version, b.Release, r.Arch, r.File())
}
