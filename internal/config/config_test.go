package config

import (
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"fbs/internal/fbstest"
)

// flags stands for a command's flags.
type flags struct {
	listen  string
	lease   time.Duration
	workers int
	open    bool
	release []string
	fs      *pflag.FlagSet
}

func newFlags(args ...string) *flags {
	f := &flags{fs: pflag.NewFlagSet("x", pflag.ContinueOnError)}
	f.fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "")
	f.fs.DurationVar(&f.lease, "lease", 30*time.Second, "")
	f.fs.IntVar(&f.workers, "workers", 1, "")
	f.fs.BoolVar(&f.open, "open", false, "")
	f.fs.StringSliceVar(&f.release, "release", nil, "")
	f.fs.String("config", "", "")
	f.fs.Parse(args)
	return f
}

func TestApply(t *testing.T) {
	tests := map[string]struct {
		file string
		env  map[string]string
		args []string
		want string // the flags after, or the problems
	}{
		"defaults":      {"", nil, nil, "127.0.0.1:8080 30s 1 false []"},
		"from the file": {"[server]\nlisten = \"0.0.0.0:80\"\nlease = \"1m\"\nworkers = 0\nopen = true\nrelease = [\"40\", \"rawhide\"]\n", nil, nil, "0.0.0.0:80 1m0s 0 true [40 rawhide]"},
		"env wins":      {"[server]\nworkers = 0\n", map[string]string{"FBS_WORKERS": "4"}, nil, "127.0.0.1:8080 30s 4 false []"},
		"flag wins":     {"[server]\nworkers = 0\n", map[string]string{"FBS_WORKERS": "4"}, []string{"--workers", "2"}, "127.0.0.1:8080 30s 2 false []"},
		"other section": {"[worker]\nrelease = [\"40\"]\n", nil, nil, "127.0.0.1:8080 30s 1 false []"},
		"bad value":     {"[server]\n\nlease = \"soon\"\n", nil, nil, `fbs.toml:3: server.lease: invalid argument "soon"`},
		"bad type":      {"[server]\nworkers = \"many\"\n", nil, nil, `fbs.toml:2: server.workers: invalid argument "many"`},
		"a table":       {"[server]\nlisten = { host = \"x\" }\n", nil, nil, "fbs.toml:2: server.listen: a map[string]interface {} is not a value here"},
		"unknown key":   {"[server]\nlisten = \"x:1\"\nlistn = \"y\"\n", nil, nil, "fbs.toml:3: server.listn: unknown key"},
		"unknown table": {"[sever]\nlisten = \"x:1\"\n", nil, nil, "fbs.toml: sever: unknown table"},
		"bad env":       {"", map[string]string{"FBS_LEASE": "x"}, nil, `environment: $FBS_LEASE: invalid argument "x"`},
		"syntax":        {"[server]\nlisten = \n", nil, nil, "fbs.toml:2: "},
		"top-level key": {"listen = \"x\"\n", nil, nil, "every top-level key must be in a table"},
		"several":       {"[server]\nlease = \"soon\"\nworkers = \"many\"\n", nil, nil, "or \"5m\"\nfbs.toml:3: server.workers: invalid argument \"many\""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFlags(tc.args...)
			var file *File
			var err error
			if tc.file != "" {
				file, err = Parse("fbs.toml", []byte(tc.file))
			}
			if err == nil {
				err = file.Apply(f.fs, "server", func(k string) string { return tc.env[k] })
			}
			got := ""
			if err != nil {
				got = err.Error()
				var ps Problems
				if !errors.As(err, &ps) {
					t.Errorf("not Problems: %T", err)
				}
			} else {
				got = strings.Join([]string{f.listen, f.lease.String(), strconv.Itoa(f.workers), strconv.FormatBool(f.open), "[" + strings.Join(f.release, " ") + "]"}, " ")
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestImport: a deploy.conf becomes a server config and a worker config
// per arch and release (golden): the seed's sample, whose master is
// localhost, and one naming its master, whose releases leave a group out.
func TestImport(t *testing.T) {
	for _, name := range []string{"deploy", "deploy-named"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name + ".conf")
			if err != nil {
				t.Fatal(err)
			}
			files, err := Import("deploy.conf", data)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			var all strings.Builder
			for _, n := range names {
				if strings.HasPrefix(n, SecretPrefix) {
					continue
				}
				all.WriteString("==> " + n + " <==\n" + files[n])
				if _, err := Parse(n, []byte(files[n])); err != nil {
					t.Errorf("%s does not parse: %v", n, err)
				}
			}
			for n, text := range files {
				if strings.Contains(text, "f00bar") != (n == SecretPrefix+"smtp-password") {
					t.Errorf("%s: the SMTP password belongs in the secret file only", n)
				}
			}
			fbstest.Golden(t, name, all.String())
		})
	}
}

func TestImportNoReleases(t *testing.T) {
	_, err := Import("deploy.conf", []byte("[master]\nhost=a@b\n[workers-17]\ni686=root@c\n"))
	if err == nil || !strings.Contains(err.Error(), "no [releases] releases=") {
		t.Errorf("error %v", err)
	}
}

// TestApplyArray: an array's elements reach a repeatable flag one by one,
// commas and all.
func TestApplyArray(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	expect := fs.StringArray("expect", []string{"Welcome to"}, "")
	file, err := Parse("fbs.toml", []byte("[worker]\nexpect = [\"Hello, world\", \"init reached\"]\n"))
	if err == nil {
		err = file.Apply(fs, "worker", func(string) string { return "" })
	}
	if err != nil || strings.Join(*expect, "|") != "Hello, world|init reached" || !fs.Changed("expect") {
		t.Errorf("%q %v", *expect, err)
	}
}
