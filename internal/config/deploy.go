package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"fbs/internal/hostarch"
)

// deployConf is the seed's conf/deploy.conf: sections of key=value.
type deployConf struct {
	order    []string
	sections map[string]map[string]string
}

func parseDeploy(name string, data []byte) (*deployConf, error) {
	d := &deployConf{sections: map[string]map[string]string{}}
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = strings.TrimSpace(line[1 : len(line)-1])
			if _, ok := d.sections[cur]; !ok {
				d.order = append(d.order, cur)
				d.sections[cur] = map[string]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == "" {
				return nil, Problems{{File: name, Line: n, Msg: fmt.Sprintf("%q: expected key=value in a [section]", line)}}
			}
			d.sections[cur][strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `'"`)
		}
	}
	return d, sc.Err()
}

// hostOf is the host of a user@host string.
func hostOf(s string) string {
	if _, h, ok := strings.Cut(s, "@"); ok {
		return h
	}
	return s
}

// SecretPrefix marks a file Import writes that only its owner may read
// (the prefix is not part of its name).
const SecretPrefix = "secret:"

// Import turns the seed's deploy.conf into fbs configs: server.toml and
// one worker-<arch>-<release>.toml per arch and release group, by file
// name, and the SMTP password in a file of its own.
func Import(name string, data []byte) (map[string]string, error) {
	d, err := parseDeploy(name, data)
	if err != nil {
		return nil, err
	}
	serverURL, why := serverURLOf(d.sections["master"]["host"])
	releases, skipped, err := workerGroups(name, d)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var s strings.Builder
	fmt.Fprintf(&s, "# fbs server, from %s.\n", name)
	fmt.Fprintf(&s, "# [master] host=%s: run fbs serve there (fbs-server.service); the REST and the\n", d.sections["master"]["host"])
	s.WriteString("# worker APIs are both served by it. Its workdir has no equivalent: fbs keeps its store,\n")
	s.WriteString("# logs and artifacts in data.\n")
	if b := d.sections["broker"]; len(b) > 0 {
		fmt.Fprintf(&s, "# [broker] %s: no equivalent: workers call the server's worker API; no message broker.\n", joinMap(b))
	}
	fmt.Fprintf(&s, "# [releases] releases=%s: each worker says which releases it builds; a build for a\n", d.sections["releases"]["releases"])
	s.WriteString("# release no worker serves waits, and its status says so. As the 2012 deploy script,\n")
	s.WriteString("# the import makes workers for the [workers-RELEASE] groups of these releases only.\n")
	for _, note := range skipped {
		fmt.Fprintf(&s, "# %s\n", note)
	}
	s.WriteString("[server]\nlisten = \"0.0.0.0:8080\"\nworkers = 0\n")
	s.WriteString("# Distributed mode keeps the queue in PostgreSQL; give its URL in a file only fbs reads:\n")
	s.WriteString("#db-file = \"/etc/fbs/db-url\"\n")
	if m := d.sections["SMTP"]; len(m) > 0 {
		fmt.Fprintf(&s, "# [SMTP]: email to requesters. The password is in smtp-password: install it as\n")
		s.WriteString("# /etc/fbs/smtp-password, readable by fbs only.\n")
		fmt.Fprintf(&s, "smtp-host = %q\n", m["server"])
		if m["port"] != "" {
			fmt.Fprintf(&s, "smtp-port = %s\n", m["port"])
		}
		security := "starttls"
		if m["port"] == "465" {
			security = "tls"
		}
		fmt.Fprintf(&s, "smtp-security = %q\n", security)
		if m["login"] != "" {
			fmt.Fprintf(&s, "smtp-user = %q\nsmtp-from = %q\n", m["login"], m["login"])
		}
		if m["password"] != "" {
			s.WriteString("smtp-password-file = \"/etc/fbs/smtp-password\"\n")
			out[SecretPrefix+"smtp-password"] = m["password"] + "\n"
		}
	}
	for _, release := range releases {
		sec := "workers-" + release
		keys := make([]string, 0, len(d.sections[sec]))
		for k := range d.sections[sec] {
			if k != "workdir" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, arch := range keys {
			if !slices.Contains(hostarch.Media, arch) {
				// Its worker would refuse to start (fbs worker --arch).
				fmt.Fprintf(&s, "# [%s] %s=%s: no worker file: fbs makes %s media, not %s.\n",
					sec, arch, d.sections[sec][arch], strings.Join(hostarch.Media, " and "), arch)
				continue
			}
			var hosts []string
			for _, h := range strings.Split(d.sections[sec][arch], ";") {
				if h = strings.TrimSpace(h); h != "" {
					hosts = append(hosts, hostOf(h))
				}
			}
			var w strings.Builder
			fmt.Fprintf(&w, "# fbs worker for %s builds of release %s, from %s [%s].\n", arch, release, name, sec)
			fmt.Fprintf(&w, "# Run it (fbs-worker@.service) on: %s; each needs a token of its own, made on\n", strings.Join(hosts, ", "))
			w.WriteString("# the server with fbs token create --worker NAME (NAME: the host's name, or name = below).\n")
			if wd := d.sections[sec]["workdir"]; wd != "" {
				fmt.Fprintf(&w, "# workdir=%s has no equivalent: builds are made in data.\n", wd)
			}
			w.WriteString("[worker]\n")
			if serverURL != "" {
				fmt.Fprintf(&w, "# From [master] host=%s; change it if the server is reached another way.\n", d.sections["master"]["host"])
				fmt.Fprintf(&w, "server = [%q]\n", serverURL)
			} else {
				fmt.Fprintf(&w, "# The server's URL must be set here: %s.\n", why)
				w.WriteString("# Until it is, the worker refuses to start (\"--server: which fbs server to build for\").\n")
				w.WriteString("#server = [\"http://HOST:8080\"]\n")
			}
			fmt.Fprintf(&w, "token-file = \"/etc/fbs/worker.token\"\narch = [%q]\nrelease = [%q]\n", arch, release)
			out[fmt.Sprintf("worker-%s-%s.toml", arch, release)] = w.String()
		}
	}
	out["server.toml"] = s.String()
	return out, nil
}

// serverURLOf is the URL workers reach the server at, from [master]'s
// user@host, or "" and why it cannot be had from there: a loopback name
// (the 2012 sample's gene@localhost) is the machine the deploy script ran
// on, which workers on other machines cannot reach by that name.
func serverURLOf(master string) (string, string) {
	host := hostOf(master)
	switch {
	case host == "":
		return "", "deploy.conf's [master] names no host"
	case host == "localhost" || strings.HasPrefix(host, "localhost.") || strings.HasPrefix(host, "127.") || host == "::1" || host == "[::1]":
		return "", fmt.Sprintf("[master] host=%s is a loopback name,\n# which workers on other machines cannot reach", master)
	}
	return "http://" + net.JoinHostPort(strings.Trim(host, "[]"), "8080"), ""
}

// workerGroups is what the 2012 deploy script deployed: the [workers-R]
// group of each release R that [releases] releases= names, in its order.
// Other groups, and releases without a group, are noted.
func workerGroups(name string, d *deployConf) (releases, notes []string, err error) {
	list, ok := d.sections["releases"]["releases"]
	if !ok {
		return nil, nil, Problems{{File: name, Msg: "no [releases] releases=: the 2012 deploy script deployed the [workers-RELEASE] group of each release it lists"}}
	}
	var named []string
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(named, r) {
			named = append(named, r)
		}
	}
	for _, r := range named {
		if _, ok := d.sections["workers-"+r]; !ok {
			notes = append(notes, fmt.Sprintf("release %s: no [workers-%s] group, so no worker for it", r, r))
			continue
		}
		releases = append(releases, r)
	}
	for _, sec := range d.order {
		if r, ok := strings.CutPrefix(sec, "workers-"); ok && !slices.Contains(named, r) {
			notes = append(notes, fmt.Sprintf("[%s]: not imported: releases=%s does not name %s, so the 2012 deploy script did not deploy it", sec, list, r))
		}
	}
	return releases, notes, nil
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
