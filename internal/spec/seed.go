package spec

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var defaultKeys = []string{"type", "arch", "release", "staging", "email", "webhook", "boottest"}

// sectionKeys lists each image section's keys, as the seed's sample files had them
// (plus fbs's own: compression, and rootfs for live; packages, append and timeout for boot). Boot's per-release repo keys are matched apart.
var sectionKeys = map[string][]string{
	"boot": {"product", "release", "version", "updates", "updates-testing", "proxy", "nvr", "bid", "outdir", "workdir",
		"packages", "append", "timeout", "compression"},
	"dvd": {"name", "version", "flavor", "nvr", "bid", "destdir", "cachedir", "workdir", "bugurl",
		"nosource", "sourceisos", "force", "stage", "config", "compression"},
	"live": {"label", "title", "product", "releasever", "nvr", "bid", "tmpdir", "cachedir", "logfile", "config", "compression", "rootfs"},
}

// ignoredKeys meant something only to the 2012 tools (lorax, pungi, livecd-creator
// flags); they are accepted and reported in the build log.
var ignoredKeys = map[string]string{
	"force":      "fbs always builds into a fresh work dir",
	"stage":      "fbs always runs every stage",
	"nosource":   "fbs never builds source ISOs",
	"sourceisos": "fbs never builds source ISOs",
}

var repoKey = regexp.MustCompile(`^(.+?)(-updates|-updates-testing)?_(url|mirror)$`)

// ParseINI reads a request in the seed's INI format. name is used in errors.
func ParseINI(name string, r io.Reader) (*Request, error) {
	f, err := parseINI(name, r)
	if err != nil {
		return nil, err
	}
	def, ok := f.sections["DEFAULT"]
	if !ok {
		return nil, &Error{File: name, Line: 1, Msg: "no [DEFAULT] section (it holds type, arch, release, staging and email)"}
	}
	for sec, s := range f.sections {
		if sec != "DEFAULT" && sectionKeys[sec] == nil {
			return nil, &Error{File: name, Line: s.line, Msg: fmt.Sprintf("unknown section [%s] (expected [DEFAULT] and one of [boot], [dvd], [live])", sec)}
		}
	}
	typ := def.keys["type"]
	if typ.value == "" {
		return nil, &Error{File: name, Line: def.line, Key: "type", Msg: "missing in [DEFAULT] (boot, dvd or live)"}
	}
	if !slices.Contains(Types, typ.value) {
		return nil, &Error{File: name, Line: typ.line, Key: "type", Msg: fmt.Sprintf("unknown image type %q (boot, dvd or live)", typ.value)}
	}
	sec, ok := f.sections[typ.value]
	if !ok {
		return nil, &Error{File: name, Line: typ.line, Msg: fmt.Sprintf("type=%s needs a [%s] section", typ.value, typ.value)}
	}
	p := &seedParser{name: name, def: def, sec: sec, req: &Request{}}
	for other := range f.sections {
		if other != "DEFAULT" && other != typ.value {
			p.req.Ignored = append(p.req.Ignored, fmt.Sprintf("[%s] section (type=%s builds from [%s] only)", other, typ.value, typ.value))
		}
	}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.req, nil
}

type seedParser struct {
	name     string
	def, sec *iniSection
	req      *Request
}

// get returns a key of the image section, falling back to [DEFAULT] as ConfigParser does.
func (p *seedParser) get(key string) iniValue {
	if v, ok := p.sec.keys[key]; ok {
		return v
	}
	return p.def.keys[key]
}

func (p *seedParser) errAt(v iniValue, key, msg string) error {
	return &Error{File: p.name, Line: v.line, Key: key, Msg: msg}
}

func (p *seedParser) parse() error {
	if err := p.checkKeys(); err != nil {
		return err
	}
	r := p.req
	r.Type = p.get("type").value
	r.Arch = p.get("arch").value
	r.Release = strings.ToLower(p.get("release").value)
	r.Staging = p.get("staging").value
	r.Email = SplitList(p.get("email").value)
	r.Webhook = p.get("webhook").value
	r.BootTest = SplitList(p.get("boottest").value)
	r.NVR = SplitList(p.get("nvr").value)
	for _, s := range SplitList(p.get("bid").value) {
		id, err := strconv.Atoi(s)
		if err != nil || id <= 0 {
			return p.errAt(p.get("bid"), "bid", fmt.Sprintf("build id %q is not a positive number", s))
		}
		r.BuildID = append(r.BuildID, id)
	}
	var err error
	switch r.Type {
	case "boot":
		err = p.boot()
	case "dvd":
		err = p.dvd()
	case "live":
		r.Live = &Live{
			Label: p.get("label").value, Title: p.get("title").value, Product: p.get("product").value,
			Releasever: p.get("releasever").value, Config: p.get("config").value, TmpDir: p.get("tmpdir").value,
			CacheDir: p.get("cachedir").value, LogFile: p.get("logfile").value, Compression: p.get("compression").value,
			RootFS: p.get("rootfs").value,
		}
	}
	if err != nil {
		return err
	}
	return p.validate()
}

func (p *seedParser) checkKeys() error {
	allowed := sectionKeys[p.sec.name]
	for _, s := range []*iniSection{p.def, p.sec} {
		for _, k := range sortedKeys(s) {
			v := s.keys[k]
			if slices.Contains(defaultKeys, k) || slices.Contains(allowed, k) {
				if why, ok := ignoredKeys[k]; ok && v.value != "" {
					p.req.Ignored = append(p.req.Ignored, fmt.Sprintf("%s=%s (line %d): %s", k, v.value, v.line, why))
				}
				continue
			}
			if m := repoKey.FindStringSubmatch(k); m != nil && p.sec.name == "boot" {
				if rel := strings.ToLower(p.get("release").value); m[1] != rel {
					return p.errAt(v, k, fmt.Sprintf("repo key for release %q, but the request is for release %q", m[1], rel))
				}
				continue
			}
			hint := strings.Join(append(slices.Clone(defaultKeys), allowed...), ", ")
			if p.sec.name == "boot" {
				hint += ", <release>_url, <release>_mirror, <release>-updates_url|_mirror, <release>-updates-testing_url|_mirror"
			}
			msg := fmt.Sprintf("unknown key in [%s] (known: %s)", s.name, hint)
			if near := nearest(k, append(slices.Clone(defaultKeys), allowed...)); near != "" {
				msg = fmt.Sprintf("unknown key in [%s]; did you mean %s? (known: %s)", s.name, near, hint)
			}
			return p.errAt(v, k, msg)
		}
	}
	return nil
}

func (p *seedParser) boot() error {
	rel := strings.ToLower(p.get("release").value)
	b := &Boot{
		Product: p.get("product").value, Version: p.get("version").value, Proxy: p.get("proxy").value,
		OutDir: p.get("outdir").value, WorkDir: p.get("workdir").value,
		Repo:        RepoSource{URL: p.get(rel + "_url").value, Mirror: p.get(rel + "_mirror").value},
		UpdatesRepo: RepoSource{URL: p.get(rel + "-updates_url").value, Mirror: p.get(rel + "-updates_mirror").value},
		TestingRepo: RepoSource{URL: p.get(rel + "-updates-testing_url").value, Mirror: p.get(rel + "-updates-testing_mirror").value},
	}
	b.Packages = SplitList(p.get("packages").value)
	b.Append = p.get("append").value
	b.Compression = p.get("compression").value
	if v := p.get("timeout"); v.value != "" {
		n, err := strconv.Atoi(v.value)
		if err != nil || n < 0 {
			return p.errAt(v, "timeout", fmt.Sprintf("%q is not a number of seconds", v.value))
		}
		b.Timeout = &n
	}
	var err error
	if b.Updates, err = p.bool("updates"); err != nil {
		return err
	}
	if b.UpdatesTesting, err = p.bool("updates-testing"); err != nil {
		return err
	}
	p.req.Boot = b
	return nil
}

func (p *seedParser) dvd() error {
	d := &DVD{
		Name: p.get("name").value, Version: p.get("version").value, Flavor: p.get("flavor").value,
		BugURL: p.get("bugurl").value, Config: p.get("config").value, DestDir: p.get("destdir").value,
		CacheDir: p.get("cachedir").value, WorkDir: p.get("workdir").value, Stage: p.get("stage").value,
		Compression: p.get("compression").value,
	}
	var err error
	for key, dst := range map[string]*bool{"nosource": &d.NoSource, "sourceisos": &d.SourceISOs, "force": &d.Force} {
		if *dst, err = p.bool(key); err != nil {
			return err
		}
	}
	p.req.DVD = d
	return nil
}

func (p *seedParser) bool(key string) (bool, error) {
	v := p.get(key)
	switch strings.ToLower(v.value) {
	case "", "0", "no", "false", "off":
		return false, nil
	case "1", "yes", "true", "on":
		return true, nil
	}
	return false, p.errAt(v, key, fmt.Sprintf("%q is not a boolean (use 0 or 1)", v.value))
}

// validate runs the checks every form of a request goes through, then maps
// the failing field back to its INI key and line.
func (p *seedParser) validate() error {
	err := p.req.Validate()
	if e, ok := err.(*Error); ok && e.Key != "" {
		ini := iniKeyOf(e.Key)
		v := p.get(ini)
		if v.line == 0 {
			v.line = p.sec.line
		}
		return &Error{File: p.name, Line: v.line, Key: ini, Msg: e.Msg}
	}
	return err
}

// iniKeyOf turns a JSON field path ("live.label") into the seed key ("label").
func iniKeyOf(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	if field == "updates_testing" {
		return "updates-testing"
	}
	return field
}

func sortedKeys(s *iniSection) []string {
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return s.keys[keys[i]].line < s.keys[keys[j]].line })
	return keys
}

// SplitList splits the seed's lists (emails, NVRs, build ids, packages),
// which were written with ';' in files, ':' in the old web form, and ','
// or spaces by hand; a browser's textarea sends CRLFs.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ':' || r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// nearest is the key within two edits of k (a typo), or "".
func nearest(k string, keys []string) string {
	best, bestD := "", 3
	for _, c := range keys {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
