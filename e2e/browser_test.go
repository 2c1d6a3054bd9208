//go:build e2e

package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"fbs/internal/demo"
)

// tab drives one browser tab and keeps a screenshot of each step.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *tab) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path))
}

func (p *tab) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.shot("failed-text")
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// until polls cond every half second, up to within.
func (p *tab) until(what string, within time.Duration, cond func() bool) {
	p.t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			p.t.Fatalf("%s: not within %s", what, within)
		}
	}
}

// eval answers a JavaScript expression's value on the page.
func eval[T any](p *tab, what, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// fits says the page is no wider than the window (nothing to scroll sideways).
func (p *tab) fits(page string) {
	p.t.Helper()
	if !eval[bool](p, "the width of "+page, `document.documentElement.scrollWidth <= window.innerWidth`) {
		p.t.Errorf("%s is wider than the window", page)
	}
}

func (p *tab) location() string {
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	return loc
}

// state waits for the build page's state to read want (htmx refreshes it).
func (p *tab) state(want string, within time.Duration) {
	p.t.Helper()
	p.until("build "+want, within, func() bool {
		s, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("#status .state")))
		return strings.HasPrefix(s, want) || want != "failed" && strings.HasPrefix(s, "failed")
	})
	if got := p.text("#status .state"); !strings.HasPrefix(got, want) {
		p.shot("failed-build")
		p.t.Fatalf("build: %s, want %s (%s)", got, want, p.text("#log"))
	}
}

func (p *tab) shot(name string) {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(p.shots, name+".png"), png, 0o644)
	}
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

// axe is Deque's axe-core 4.14.1 (MPL-2.0, from the npm registry,
// sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==),
// the accessibility rules browsers' audits use.
//
//go:embed testdata/axe-4.14.1.min.js
var axe string

// audit checks the page against WCAG 2 A and AA with axe: each violation
// is a test error naming the rule and the elements.
func (p *tab) audit(page string) {
	p.t.Helper()
	type violation struct {
		ID, Impact, Help string
		Nodes            []string
	}
	p.do("load axe", chromedp.Evaluate[chromedp.Void](axe))
	found, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]violation](`axe.run(document, {runOnly: ["wcag2a", "wcag2aa"]}).then(r =>
		r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help, Nodes: v.nodes.map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("axe on %s: %v", page, err)
	}
	for _, v := range found {
		p.t.Errorf("accessibility of %s: %s (%s): %s: %v", page, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// logIn goes through the login page and the OpenID provider as user.
func (p *tab) logIn(m *mockoidc.MockOIDC, user string, groups ...string) {
	p.t.Helper()
	m.QueueUser(&mockoidc.MockUser{Subject: user + "-id", PreferredUsername: user, Email: user + "@example.org", Groups: groups})
	p.open("/builds")
	if !strings.Contains(p.location(), "/login?next=") {
		p.t.Fatalf("not sent to the login page: %s", p.location())
	}
	p.do("log in", chromedp.Click(chromedp.CSS("a.button")))
	p.until("back from the provider", 20*time.Second, func() bool { return strings.HasSuffix(p.location(), "/builds") })
	p.do("wait for the builds", chromedp.WaitVisible(chromedp.CSS("#builds")))
}

// submitForm fills the submit form for typ with fields (CSS id → value)
// and uploads, ticks the boxes (CSS selectors), sends it, and answers the
// build page's id.
func (p *tab) submitForm(typ string, fields, uploads map[string]string, ticks ...string) string {
	p.t.Helper()
	p.open("/submit")
	steps := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#type-" + typ))}
	for id, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS("#"+id), v))
	}
	for _, sel := range ticks {
		steps = append(steps, chromedp.Click(chromedp.CSS(sel)))
	}
	for id, path := range uploads {
		steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS("#"+id), []string{path}))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("form.typed button[type=submit]")))
	p.do("submit "+typ, steps...)
	p.until("the build page", 30*time.Second, func() bool { return strings.Contains(p.location(), "/builds/") })
	p.do("wait for the log", chromedp.WaitVisible(chromedp.CSS("#log")))
	return p.location()[strings.LastIndex(p.location(), "/")+1:]
}

// TestBrowser: in Debian's headless Chromium, users log in through a
// real OpenID provider, submit each image type from the form (demo
// builds), watch a log stream, cancel a build, download an artifact, see
// a bad kickstart URL refused by its field, and see only their own
// builds. Each page's screenshot is kept in artifacts/screenshots.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is missing (apt-get install chromium)")
		}
		t.Skip("chromium is missing (apt-get install chromium)")
	}
	shots := os.Getenv("FBS_SCREENSHOTS")
	if shots == "" {
		shots, _ = filepath.Abs("../artifacts/screenshots")
	}
	os.MkdirAll(shots, 0o755)
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	cfg := m.Config()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "client-secret"), cfg.ClientSecret)
	data := filepath.Join(dir, "data")
	s := startServer(t, data, "--oidc-issuer", cfg.Issuer, "--oidc-client-id", cfg.ClientID, "--oidc-client-secret-file", filepath.Join(dir, "client-secret"),
		"--oidc-scope", "profile,email,groups", "--admin-group", "releng", "--boot-test=bios", "--expect", demo.Expect, "--expect", demo.ExpectInstaller,
		"--allow-net", "127.0.0.0/8") // the kickstart server below is on loopback
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(data + ".log")
			t.Logf("fbs serve logs:\n%s", b)
		}
	})
	kickstarts := httptest.NewServer(http.NotFoundHandler())
	defer kickstarts.Close()

	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 900))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	alice := &tab{t: t, ctx: ctx, base: s.url, shots: shots}

	alice.open("/builds")
	alice.shot("01-login")
	alice.audit("the login page")
	alice.logIn(m, "alice")
	alice.shot("02-builds-empty")
	alice.audit("the builds")

	// A kickstart URL that is not there is refused by its field.
	live := request(t, "file://"+demoDir, "echo from the browser > /etc/issue", "")
	ks := filepath.Join(filepath.Dir(live), "test.ks")
	alice.open("/submit")
	alice.shot("03-submit")
	alice.do("submit a bad URL", chromedp.SetValue(chromedp.CSS("#release"), "1"), chromedp.SetValue(chromedp.CSS("#live-kickstart-url"), kickstarts.URL+"/fbs-live.ks"),
		chromedp.Click(chromedp.CSS("form.typed button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#live-kickstart-error")))
	mustContain(t, "the kickstart's error", alice.text("#live-kickstart-error"), "404 Not Found")
	alice.shot("04-submit-bad-kickstart-url")
	alice.audit("the submit page with an error")

	// A live ISO from the form, its log followed as it is written.
	id := alice.submitForm("live", map[string]string{"release": "1", "compression": "zstd", "live-label": "FBS-Test", "live-title": "fbs test"}, map[string]string{"live-kickstart-file": ks})
	first := alice.text("#log")
	alice.shot("05-build-live-started")
	alice.state("succeeded", 4*time.Minute)
	log := alice.text("#log")
	// The boot test alone takes seconds: the page opened long before the
	// end, which only the stream can have brought.
	if strings.Contains(first, "=== stage manifest") || !strings.Contains(log, "=== stage manifest") || !strings.Contains(log, "succeeded in") {
		t.Errorf("the log did not stream: first %q, then %q", first, log)
	}
	alice.until("the artifacts", 10*time.Second, func() bool {
		n, _ := chromedp.Run(alice.ctx, chromedp.Evaluate[int](`document.querySelectorAll("ul.artifacts a").length`))
		return n > 0
	})
	mustContain(t, "the boot test", alice.text("#status"), "Booted with bios firmware", demo.ExpectInstaller)
	if following, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(l => l.scrollHeight > l.clientHeight && l.scrollTop + l.clientHeight >= l.scrollHeight - 40)(document.getElementById("log"))`)); !following {
		t.Error("the log does not follow its tail")
	}
	alice.shot("06-build-live-succeeded")
	alice.audit("a build's page")

	// The page's parts: Build again from a copy before anything else, a
	// timeline of its stages, the request as its INI and its kickstart.
	if first := eval[string](alice, "the page's first link", `document.querySelector("main a").textContent`); first != "Build again from a copy" {
		t.Errorf("the build page's first link is %q, not Build again from a copy", first)
	}
	type stage struct{ Name, State, Meter string }
	stages := eval[[]stage](alice, "the timeline", `[...document.querySelectorAll("table.timeline tbody tr")].map(tr =>
		({Name: tr.cells[0].textContent, State: tr.className, Meter: tr.querySelector("meter") ? tr.querySelector("meter").getAttribute("aria-label") : ""}))`)
	if len(stages) < 3 || !slices.ContainsFunc(stages, func(s stage) bool { return s.Name == "squashfs" }) {
		t.Errorf("the timeline: %+v", stages)
	}
	for _, s := range stages {
		if s.State != "stage-done" || !strings.HasPrefix(s.Meter, s.Name+": ") {
			t.Errorf("the timeline's %s: %+v", s.Name, s)
		}
	}
	mustContain(t, "the request's INI", eval[string](alice, "the INI", `document.querySelector('pre[aria-label="The request"]').textContent`),
		"[DEFAULT]\n", "type=live\n", "[live]\n", "label=FBS-Test\n", "compression=zstd\n")
	mustContain(t, "the request's kickstart", eval[string](alice, "the kickstart", `document.querySelector('pre[aria-label="The kickstart"]').textContent`),
		"%post\necho from the browser > /etc/issue\n%end")

	// Download the ISO as the browser does, with its session, and check it
	// against the sha256 the page shows.
	type got struct {
		Name, Shown, SHA256 string
		Status, Size        int
	}
	dl, err := chromedp.Run(ctx, chromedp.Evaluate[got](`(async () => {
		const a = [...document.querySelectorAll("ul.artifacts a")].find(a => a.textContent.endsWith(".iso"));
		const r = await fetch(a.href);
		const body = await r.arrayBuffer();
		const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
		return {Name: a.textContent, Shown: a.parentElement.querySelector("code").textContent, Status: r.status, Size: body.byteLength,
			SHA256: [...sum].map(b => b.toString(16).padStart(2, "0")).join("")};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || dl.Status != 200 || dl.Size < 1<<20 || dl.SHA256 != dl.Shown {
		t.Errorf("download: %+v %v", dl, err)
	}
	t.Logf("downloaded %s in the browser: %d bytes, sha256 %s", dl.Name, dl.Size, dl.SHA256)

	// Build again from a copy: the form filled in with the build's request.
	alice.do("build again", chromedp.Click(chromedp.CSS("p.actions a.button")), chromedp.WaitVisible(chromedp.CSS("form.typed")))
	type copied struct {
		Live                               bool
		Release, Label, Title, Compression string
	}
	if got := eval[copied](alice, "the copy", `({Live: document.getElementById("type-live").checked, Release: document.getElementById("release").value,
		Label: document.getElementById("live-label").value, Title: document.getElementById("live-title").value, Compression: document.getElementById("compression").value})`); got != (copied{true, "1", "FBS-Test", "fbs test", "zstd"}) || !strings.HasSuffix(alice.location(), "/submit?from="+id) {
		t.Errorf("Build again from a copy: %s: %+v", alice.location(), got)
	}
	alice.shot("06-submit-copy")

	// A boot ISO and a DVD from the form.
	dvdConf, err := demo.WriteRequest(t.TempDir(), demoDir, "dvd", "zstd")
	if err != nil {
		t.Fatal(err)
	}
	bootID := alice.submitForm("boot", map[string]string{"release": "1", "compression": "zstd", "boot-product": "fbs-demo", "boot-version": "1", "boot-repo_url": "file://" + demoDir,
		"boot-append": "console=ttyS0,115200", "boot-timeout": "1"}, nil)
	alice.state("succeeded", 4*time.Minute)
	mustContain(t, "the boot ISO's boot test", alice.text("#status"), "Booted with bios firmware", demo.ExpectInstaller)
	alice.shot("07-build-boot-succeeded")
	alice.submitForm("dvd", map[string]string{"release": "1", "compression": "zstd", "dvd-product": "fbs-demo"}, map[string]string{"dvd-kickstart-file": filepath.Join(filepath.Dir(dvdConf), "dvd.ks")})
	alice.state("succeeded", 4*time.Minute)
	mustContain(t, "the DVD's artifacts", alice.text("#status"), ".iso", "sha256", "Booted with bios firmware")
	alice.shot("08-build-dvd-succeeded")

	// A build whose %post fails (--erroronfail), asking for a UEFI boot
	// test on the form: its log's error lines are marked, the first one a
	// link's target at the top.
	failing := filepath.Join(filepath.Dir(request(t, "file://"+demoDir, "echo this build fails on purpose\nexit 1", "")), "test.ks")
	text, err := os.ReadFile(failing)
	if err != nil {
		t.Fatal(err)
	}
	write(t, failing, strings.Replace(string(text), "%post\n", "%post --erroronfail\n", 1))
	failedID := alice.submitForm("live", map[string]string{"release": "1", "compression": "zstd", "live-title": "fbs fails"}, map[string]string{"live-kickstart-file": failing},
		`input[name=boottest][value=uefi]`)
	alice.state("failed", 4*time.Minute)
	failure := alice.text("#status dd.error")
	mustContain(t, "the failure", failure, "%post")
	alice.do("reload", chromedp.Reload()) // the log as the page draws it, not as streamed
	type marked struct {
		Errors                     int
		FirstIsFirst, FailedMarked bool
		First                      string
	}
	marks := eval[marked](alice, "the marked log", `(() => {
		const errs = document.querySelectorAll("#log div.err");
		return {Errors: errs.length, FirstIsFirst: errs.length > 0 && errs[0] === document.getElementById("first-error"),
			First: errs.length ? errs[0].textContent : "", FailedMarked: [...errs].some(e => e.textContent.includes("build failed: "))};
	})()`)
	if marks.Errors == 0 || !marks.FirstIsFirst || !marks.FailedMarked {
		t.Errorf("the log's error lines: %+v", marks)
	}
	alice.do("jump to the first error", chromedp.Click(chromedp.CSS(`p.actions a[href="#first-error"]`)))
	if shown := eval[bool](alice, "the first error shown", `(e => { const r = e.getBoundingClientRect(), l = document.getElementById("log").getBoundingClientRect();
		return location.hash === "#first-error" && r.top >= Math.max(l.top, 0) && r.bottom <= Math.min(l.bottom, innerHeight); })(document.getElementById("first-error"))`); !shown {
		t.Errorf("the jump does not show the first error %q", marks.First)
	}
	alice.shot("09-build-failed")
	alice.audit("a failed build's page")
	mustContain(t, "the failed build's request", eval[string](alice, "the INI", `document.querySelector('pre[aria-label="The request"]').textContent`), "boottest=uefi\n")
	mustContain(t, "the failed build's kickstart", eval[string](alice, "the kickstart", `document.querySelector('pre[aria-label="The kickstart"]').textContent`),
		"%post --erroronfail\n")

	// Cancel a build while its %post sleeps; meanwhile the workers' page
	// links it from the busy worker.
	sleeper := request(t, "file://"+demoDir, "sleep 1001", "")
	sleeperID := alice.submitForm("live", map[string]string{"release": "1", "compression": "zstd"}, map[string]string{"live-kickstart-file": filepath.Join(filepath.Dir(sleeper), "test.ks")})
	alice.until("the %post running", 3*time.Minute, func() bool { return running("sleep 1001") })
	alice.open("/workers")
	link := `#workers a[href="/builds/` + sleeperID + `"]`
	alice.do("the busy worker's build", chromedp.WaitVisible(chromedp.CSS(link)))
	mustContain(t, "the busy worker", alice.text("#workers"), "-serve", "busy")
	alice.shot("10-workers-busy")
	alice.audit("the workers")
	alice.do("open the worker's build", chromedp.Click(chromedp.CSS(link)), chromedp.WaitVisible(chromedp.CSS("#log")))
	alice.shot("11-build-running")
	alice.do("cancel", chromedp.Click(chromedp.CSS("#status form button")))
	alice.state("cancelled", 30*time.Second)
	if running("sleep 1001") {
		t.Errorf("the cancelled build's %%post still runs")
	}
	alice.shot("12-build-cancelled")

	// The builds list their labels, and a failed build its reason.
	alice.open("/builds")
	mustContain(t, "alice's builds", alice.text("#builds"), id, bootID, failedID, "succeeded", "failed", "cancelled", "alice")
	row := func(build, sel string) string {
		return eval[string](alice, "the row of "+build, fmt.Sprintf(`(tr => tr && tr.querySelector(%q) ? tr.querySelector(%q).textContent : "")(
			[...document.querySelectorAll("#builds tbody tr")].find(tr => tr.querySelector('a[href="/builds/%s"]')))`, sel, sel, build))
	}
	if label := row(id, `td[data-label="Label"]`); label != "fbs test" {
		t.Errorf("the live build's label in the list: %q", label)
	}
	if why := row(failedID, "small.why.error"); why != failure {
		t.Errorf("the failed build's reason in the list: %q, its page says %q", why, failure)
	}
	alice.shot("13-builds")
	alice.audit("the builds")

	// Another user sees none of alice's builds; an admin sees them all.
	bctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	bob := &tab{t: t, ctx: bctx, base: s.url, shots: shots}
	bob.logIn(m, "bob")
	if b := bob.text("#builds"); strings.Contains(b, id) || !strings.Contains(b, "No builds") {
		t.Errorf("bob's builds show alice's: %s", b)
	}
	bob.open("/builds/" + id)
	mustContain(t, "alice's build to bob", bob.text("main"), "Not allowed", "not yours")
	bob.shot("14-another-users-build")
	actx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	admin := &tab{t: t, ctx: actx, base: s.url, shots: shots}
	admin.logIn(m, "carol", "releng")
	mustContain(t, "the admin's builds", admin.text("#builds"), id, bootID)
	mustContain(t, "the admin's header", admin.text("header"), "carol (admin)")
	admin.shot("15-builds-admin")

	// A token made on the page works for the CLI, as alice.
	alice.open("/tokens")
	alice.do("make a token", chromedp.Click(chromedp.CSS("main form button")), chromedp.WaitVisible(chromedp.CSS("#secret")))
	tokenFile := filepath.Join(dir, "alice-token")
	write(t, tokenFile, alice.text("#secret"))
	alice.shot("16-token")
	alice.audit("the tokens")
	if res := fbs(t, "status", id, "--json", "--server", s.url, "--token-file", tokenFile); res.code != 0 || !strings.Contains(res.out, `"requester": "alice"`) {
		t.Errorf("fbs status with the page's token: exit %d: %s", res.code, res.out)
	}

	// The header's API link: the API document drawn by the vendored Redoc,
	// nothing loaded from elsewhere (its footer's logo would come from
	// Redocly's CDN: the page's Content-Security-Policy refuses it).
	api := func() {
		t.Helper()
		alice.do("open the API", chromedp.Click(chromedp.CSS(`header a[href="/api/docs"]`)), chromedp.WaitVisible(chromedp.CSS(`[id="operation/submitBuild"]`)))
		mustContain(t, "the API page", alice.text("#redoc"), "Submit a build", "boottest", "Claim a build (long poll)")
		type resource struct{ Name, Initiator string }
		outside := eval[[]resource](alice, "the API page's resources", `performance.getEntriesByType("resource").filter(e => new URL(e.name).origin !== location.origin)
			.map(e => ({Name: e.name, Initiator: e.initiatorType + " " + e.responseStatus}))`)
		for _, r := range outside {
			if r.Initiator != "img 0" {
				t.Errorf("the API page loaded %s from elsewhere (%s)", r.Name, r.Initiator)
			}
		}
	}
	api()
	alice.shot("17-api")
	alice.audit("the API page")

	// On a phone: each page fits the screen; the builds are cards.
	alice.do("phone", chromedp.EmulateViewport(390, 844))
	alice.open("/submit")
	alice.fits("the submit page")
	if boxes := eval[int](alice, "the boot test boxes", `[...document.querySelectorAll("input[name=boottest]")].filter(b => b.getBoundingClientRect().width > 0).length`); boxes != 2 {
		t.Errorf("the submit page shows %d boot test boxes, not bios and uefi", boxes)
	}
	alice.shot("18-submit-phone")
	alice.open("/builds")
	alice.fits("the builds")
	if card := eval[string](alice, "the builds' cards", `(td => getComputedStyle(td.parentElement).display + " " + getComputedStyle(td, "::before").content)(
		document.querySelector('#builds td[data-label="Label"]'))`); !strings.HasPrefix(card, "block ") || !strings.Contains(card, "Label") {
		t.Errorf("the builds on a phone are not cards: %s", card)
	}
	alice.shot("19-builds-phone")
	alice.audit("the builds on a phone")
	alice.open("/builds/" + failedID)
	alice.fits("a failed build's page")
	alice.shot("20-build-failed-phone")
	alice.audit("a failed build's page on a phone")
	alice.open("/workers")
	alice.fits("the workers")
	alice.audit("the workers on a phone")
	api()
	alice.fits("the API page")
	alice.shot("21-api-phone")
	alice.audit("the API page on a phone")
	alice.do("log out", chromedp.Click(chromedp.CSS("form.who button")))
	alice.until("logged out", 10*time.Second, func() bool { return strings.Contains(alice.location(), "/login?out=1") })
	alice.shot("22-logged-out")
}
