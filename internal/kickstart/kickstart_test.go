package kickstart

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, name string) (*Kickstart, error) {
	t.Helper()
	lines, err := Flatten(context.Background(), &FileLoader{Dir: "testdata"}, name)
	if err != nil {
		return nil, err
	}
	return Parse(lines)
}

func TestParseLive(t *testing.T) {
	ks, err := load(t, "live.ks")
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join("testdata", "inc", "repo.ks")
	wantRepos := []Repo{
		{Name: "url", BaseURL: "https://dl.example.org/releases/$releasever/Everything/$basearch/os/", Pos: Pos{base, 1}},
		{Name: "fedora", Metalink: "https://mirrors.example.org/metalink?repo=fedora-$releasever&arch=$basearch", Pos: Pos{base, 2}},
		{Name: "updates", Mirrorlist: "https://mirrors.example.org/mirrorlist?repo=updates-released-f$releasever&arch=$basearch",
			Cost: 50, Exclude: []string{"foo", "bar"}, Pos: Pos{filepath.Join("testdata", "live.ks"), 3}},
	}
	if !reflect.DeepEqual(ks.Repos, wantRepos) {
		t.Errorf("repos\n got %+v\nwant %+v", ks.Repos, wantRepos)
	}
	p := ks.Packages
	if !p.ExcludeDocs || p.NoCore || p.Environment != "workstation-product-environment" ||
		!reflect.DeepEqual(p.Groups, []Group{{Name: "core", Include: GroupDefault}}) ||
		!reflect.DeepEqual(p.Include, []string{"kernel", "vim-*"}) ||
		!reflect.DeepEqual(p.Exclude, []string{"dracut-config-rescue"}) ||
		!reflect.DeepEqual(p.ExcludeGroups, []string{"dial-up"}) {
		t.Errorf("packages %+v", p)
	}
	if ks.Bootloader != (Bootloader{Append: "console=ttyS0,115200 rd.debug", Timeout: 3}) {
		t.Errorf("bootloader %+v", ks.Bootloader)
	}
	if ks.RootSize != 5120 {
		t.Errorf("root size %d", ks.RootSize)
	}
	if len(ks.Posts) != 2 {
		t.Fatalf("%d %%post sections", len(ks.Posts))
	}
	if s := ks.Posts[0]; !s.ErrorOnFail || s.NoChroot || s.Interpreter != "/bin/sh" || s.Log != "/root/post.log" || s.Body != "echo hi > /etc/issue\n" {
		t.Errorf("post 1 %+v", s)
	}
	if s := ks.Posts[1]; !s.NoChroot || s.Interpreter != "/usr/bin/python3" || !strings.Contains(s.Body, "INSTALL_ROOT") {
		t.Errorf("post 2 %+v", s)
	}
	var ignored []string
	for _, ig := range ks.Ignored {
		ignored = append(ignored, strings.Fields(ig)[1])
	}
	if want := []string{"%pre"}; !reflect.DeepEqual(ignored, want) {
		t.Errorf("ignored %q, want %q", ignored, want)
	}
	if s := ks.System; s.Lang.Lang != "en_US.UTF-8" || s.Keyboard.VCKeymap != "us" || !reflect.DeepEqual(s.Services.Enabled, []string{"sshd"}) {
		t.Errorf("system %+v", s)
	}
	if len(ks.Lines) != 30 {
		t.Errorf("%d flattened lines", len(ks.Lines))
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]struct {
		ks, want string
	}{
		"unknown command":    {"lang en\nfrobnicate now\n", "t.ks:2: unknown kickstart command \"frobnicate\""},
		"removed command":    {"auth --useshadow\n", "t.ks:1: auth has been removed from kickstart (pykickstart refuses it); use authselect"},
		"ambiguous prefix":   {"%packages --ex\n%end\n", "t.ks:1: %packages: ambiguous option: --ex could match --exclude-weakdeps, --excludeWeakdeps, --excludedocs"},
		"group both types":   {"%packages\n@g --nodefaults --optional\n%end\n", "t.ks:2: %packages: @g --nodefaults --optional: a group cannot take both --nodefaults and --optional"},
		"lone minus":         {"%packages\n-\n%end\n", "t.ks:2: %packages: a lone '-' names no package to exclude"},
		"default and nocore": {"%packages --default --nocore\n%end\n", "t.ks:1: %packages: --default and --nocore cannot be used together"},
		"rootpw nothing":     {"rootpw\n", "t.ks:1: rootpw: needs a password, or --lock"},
		"certificate no dir": {"%certificate --filename=a.pem\nX\n%end\n", "t.ks:1: %certificate: one of --dir or --type must be given"},
		"unknown section":    {"%postinstall\n%end\n", "t.ks:1: unknown section %postinstall"},
		"no end":             {"%packages\nkernel\n", "t.ks:1: %packages has no %end"},
		"post in packages":   {"%packages\nkernel\n%post\necho\n%end\n", "t.ks:3: %packages (at t.ks:1) does not end with %end before this %post"},
		"pragma in post":     {"%post\n%pragma x\n%packages\n%end\n", "t.ks:3: %post (at t.ks:1) does not end with %end before this %packages"},
		"stray end":          {"%end\n", "t.ks:1: %end without a section to close"},
		"repo no name":       {"repo --baseurl=http://x/\n", "t.ks:1: repo needs --name"},
		"repo two sources":   {"repo --name=a --baseurl=http://x/ --mirrorlist=http://y/\n", "t.ks:1: repo a needs exactly one of --baseurl, --mirrorlist, --metalink"},
		"repo no source":     {"repo --name=a\n", "t.ks:1: repo a needs exactly one of --baseurl, --mirrorlist, --metalink"},
		"repo twice":         {"repo --name=a --baseurl=http://x/\nrepo --name=a --baseurl=http://y/\n", "t.ks:2: repo \"a\" already defined at t.ks:1"},
		"repo bad option":    {"repo --name=a --baseurl=http://x/ --colour=red\n", "t.ks:1: repo: unknown flag: --colour"},
		"repo bad cost":      {"repo --name=a --baseurl=http://x/ --cost=cheap\n", "t.ks:1: repo a: --cost \"cheap\" is not a number"},
		"bootloader timeout": {"bootloader --timeout=soon\n", "t.ks:1: bootloader: invalid argument \"soon\" for \"--timeout\" flag: must be an integer"},
		"part home":          {"part /home --size=100\n", "t.ks:1: part /home: a live image has a single / filesystem (as livemedia-creator requires)"},
		"part no mount":      {"part --size=100\n", "t.ks:1: part: takes 1 argument(s) besides its options, got []"},
		"unbalanced quote":   {"bootloader --append=\"console=ttyS0\n", "t.ks:1: cannot split \"bootloader --append=\\\"console=ttyS0\": no closing quotation"},
		"post bad option":    {"%post --chroot\n%end\n", "t.ks:1: %post: unknown flag: --chroot"},
		"include missing":    {"%include nope.ks\n", "t.ks:1: %include nope.ks: read testdata/nope.ks: no such file or directory"},
		"include args":       {"%include a.ks b.ks\n", "t.ks:1: %include takes one path or URL"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := Inline{Name: "t.ks", Text: tc.ks, Next: &FileLoader{Dir: "testdata"}}
			lines, err := Flatten(context.Background(), l, "t.ks")
			if err == nil {
				_, err = Parse(lines)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *kickstart.Error", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestIncludeLoop(t *testing.T) {
	_, err := load(t, "loop.ks")
	want := "testdata/loop.ks:2: %include loop.ks includes itself (testdata/loop.ks -> testdata/loop.ks)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func TestIncludeOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	defer srv.Close()
	lines, err := Flatten(context.Background(), &FileLoader{}, srv.URL+"/live.ks")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := Parse(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Repos) != 3 || ks.Repos[0].Pos.File != srv.URL+"/inc/repo.ks" {
		t.Errorf("repos %+v", ks.Repos)
	}
	_, err = Flatten(context.Background(), &FileLoader{}, srv.URL+"/missing.ks")
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("missing kickstart over HTTP: %v", err)
	}
}

func TestNotARegularFile(t *testing.T) {
	_, err := Flatten(context.Background(), &FileLoader{}, "/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "read /dev/zero: not a regular file") {
		t.Errorf("error %v", err)
	}
}

// TestNoLocalFiles: a loader for requests sent over the network reads no
// local file, however its URL spells the scheme (RFC 3986 3.1: any case).
func TestNoLocalFiles(t *testing.T) {
	for _, ref := range []string{"live.ks", "file:///etc/passwd", "FILE:///etc/passwd", "File:/etc/passwd"} {
		t.Run(ref, func(t *testing.T) {
			_, err := Flatten(context.Background(), &FileLoader{Dir: "testdata", NoLocal: true}, ref)
			if err == nil || !strings.Contains(err.Error(), "cannot name a local file") {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestSplitArgs(t *testing.T) {
	tests := map[string][]string{
		`repo --name=a --baseurl=http://x/?a=1&b=2;c|d`: {"repo", "--name=a", "--baseurl=http://x/?a=1&b=2;c|d"},
		`bootloader --append="console=ttyS0 quiet"`:     {"bootloader", "--append=console=ttyS0 quiet"},
		`a 'b "c"' "d \"e\"" f\ g`:                      {"a", `b "c"`, `d "e"`, "f g"},
		"  a	b  ":                                       {"a", "b"},
		`empty "" ''`:                                   {"empty", "", ""},
		"lang en_US.UTF-8 # the default":                {"lang", "en_US.UTF-8"},
		"network --hostname=a#b":                        {"network", "--hostname=a"},
		`x 'a#b' a\#b "c # d"#e`:                        {"x", "a#b", "a#b", "c # d"},
		"# all comment":                                 nil,
	}
	for in, want := range tests {
		got, err := splitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand("https://x/$releasever/${basearch}/os/$basearch", "40", "x86_64")
	if got != "https://x/40/x86_64/os/x86_64" {
		t.Error(got)
	}
}
