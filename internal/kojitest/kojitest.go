// Package kojitest serves what fbs asks of a Koji for tests: the hub's
// XML-RPC calls getBuild and listRPMs, and the topurl's package files,
// from RPMs the test built.
package kojitest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Build is a build the server knows.
type Build struct {
	ID                     int
	Name, Version, Release string
	State                  int    // 1 is COMPLETE
	Volume                 string // "" is DEFAULT
	RPMs                   []string
}

// Server is a Koji hub and topurl on 127.0.0.1.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	builds   []Build
	Calls    []string // methods called, in order
	Requests int      // package file downloads
	// FaultOn makes getBuild answer this NVR with an XML-RPC fault.
	FaultOn string
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /kojihub", s.hub)
	mux.HandleFunc("GET /", s.files)
	s.Server = httptest.NewServer(mux)
	return s
}

// Hub is the hub URL; TopURL the files'.
func (s *Server) Hub() string    { return s.URL + "/kojihub" }
func (s *Server) TopURL() string { return s.URL + "/" }

// Add registers a build.
func (s *Server) Add(b Build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds = append(s.builds, b)
}

func (b Build) nvr() string { return b.Name + "-" + b.Version + "-" + b.Release }

func (s *Server) hub(w http.ResponseWriter, r *http.Request) {
	var call struct {
		Method string  `xml:"methodName"`
		Params []value `xml:"params>param>value"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&call); err != nil {
		fault(w, 1000, "bad request: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls = append(s.Calls, call.Method)
	switch call.Method {
	case "getBuild":
		if len(call.Params) < 1 {
			fault(w, 1000, "getBuild needs buildInfo")
			return
		}
		p := call.Params[0]
		if p.String != nil && *p.String == s.FaultOn {
			fault(w, 1000, "invalid format: "+*p.String)
			return
		}
		for _, b := range s.builds {
			if p.Int != nil && *p.Int == strconv.Itoa(b.ID) || p.String != nil && *p.String == b.nvr() {
				respond(w, buildInfo(b))
				return
			}
		}
		respond(w, nil) // Koji answers None for an unknown build
	case "listRPMs":
		if len(call.Params) < 1 || call.Params[0].Int == nil {
			fault(w, 1000, "listRPMs needs buildID")
			return
		}
		var out []any
		for _, b := range s.builds {
			if strconv.Itoa(b.ID) != *call.Params[0].Int {
				continue
			}
			for _, f := range b.RPMs {
				info, err := rpmInfo(f, b)
				if err != nil {
					fault(w, 1000, err.Error())
					return
				}
				out = append(out, info)
			}
		}
		respond(w, out)
	default:
		fault(w, 1000, "no such method "+call.Method)
	}
}

func buildInfo(b Build) map[string]any {
	vol := b.Volume
	if vol == "" {
		vol = "DEFAULT"
	}
	return map[string]any{"id": b.ID, "build_id": b.ID, "name": b.Name, "package_name": b.Name, "version": b.Version,
		"release": b.Release, "nvr": b.nvr(), "state": b.State, "volume_name": vol, "epoch": nil, "task_id": 1}
}

// rpmInfo reads an RPM's header as Koji records it.
func rpmInfo(path string, b Build) (map[string]any, error) {
	out, err := exec.Command("rpm", "-qp", "--nosignature", "--nodigest", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{SIGMD5}", path).Output()
	if err != nil {
		return nil, fmt.Errorf("rpm -qp %s: %v", path, err)
	}
	f := strings.Fields(string(out))
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": b.ID*100 + len(f[0]), "name": f[0], "version": f[1], "release": f[2], "arch": f[3],
		"payloadhash": f[4], "size": int(st.Size()), "build_id": b.ID, "epoch": nil}, nil
}

// files serves topurl/[vol/<volume>/]packages/<name>/<version>/<release>/<arch>/<file>.
func (s *Server) files(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.Requests++
	builds := s.builds
	s.mu.Unlock()
	for _, b := range builds {
		prefix := "/packages/"
		if b.Volume != "" {
			prefix = "/vol/" + b.Volume + "/packages/"
		}
		for _, f := range b.RPMs {
			info, err := rpmInfo(f, b)
			if err != nil {
				continue
			}
			want := fmt.Sprintf("%s%s/%s/%s/%s/%s", prefix, b.Name, b.Version, b.Release, info["arch"], filepath.Base(f))
			if r.URL.Path == want {
				http.ServeFile(w, r, f)
				return
			}
		}
	}
	http.NotFound(w, r)
}

// value is an XML-RPC value as far as fbs sends them.
type value struct {
	String *string `xml:"string"`
	Int    *string `xml:"int"`
	I4     *string `xml:"i4"`
	Struct *struct {
		Members []struct {
			Name  string `xml:"name"`
			Value value  `xml:"value"`
		} `xml:"member"`
	} `xml:"struct"`
	Array *struct {
		Values []value `xml:"data>value"`
	} `xml:"array"`
	Text string `xml:",chardata"`
}

func (v *value) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain value
	if err := d.DecodeElement((*plain)(v), &start); err != nil {
		return err
	}
	if v.I4 != nil {
		v.Int = v.I4
	}
	if v.String == nil && v.Int == nil && v.Struct == nil && v.Array == nil {
		s := v.Text // a bare <value>text</value> is a string
		v.String = &s
	}
	return nil
}

func respond(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, "<?xml version='1.0'?>\n<methodResponse><params><param>%s</param></params></methodResponse>\n", encode(v))
}

func fault(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, "<?xml version='1.0'?>\n<methodResponse><fault>%s</fault></methodResponse>\n",
		encode(map[string]any{"faultCode": code, "faultString": msg}))
}

func encode(v any) string {
	switch x := v.(type) {
	case nil:
		return "<value><nil/></value>"
	case int:
		return fmt.Sprintf("<value><int>%d</int></value>", x)
	case string:
		var b strings.Builder
		xml.EscapeText(&b, []byte(x))
		return "<value><string>" + b.String() + "</string></value>"
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(encode(e))
		}
		return "<value><array><data>" + b.String() + "</data></array></value>"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "<member><name>%s</name>%s</member>", k, encode(x[k]))
		}
		return "<value><struct>" + b.String() + "</struct></value>"
	}
	panic(fmt.Sprintf("kojitest: cannot encode %T", v))
}
