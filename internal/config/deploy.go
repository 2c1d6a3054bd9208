package config

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
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
	master := hostOf(d.sections["master"]["host"])
	if master == "" {
		master = "SERVER"
	}
	serverURL := "http://" + master + ":8080"
	out := map[string]string{}
	var s strings.Builder
	fmt.Fprintf(&s, "# fbs server, from %s.\n", name)
	fmt.Fprintf(&s, "# [master] host=%s: run fbs serve there (fbs-server.service); the REST and the\n", d.sections["master"]["host"])
	s.WriteString("# worker APIs are both served by it. Its workdir has no equivalent: fbs keeps its store,\n")
	s.WriteString("# logs and artifacts in data.\n")
	if b := d.sections["broker"]; len(b) > 0 {
		fmt.Fprintf(&s, "# [broker] %s: no equivalent: workers call the server's worker API; no message broker.\n", joinMap(b))
	}
	if r := d.sections["releases"]["releases"]; r != "" {
		fmt.Fprintf(&s, "# [releases] releases=%s: no equivalent: each worker says which releases it builds;\n", r)
		s.WriteString("# a build for a release no worker serves waits, and its status says so.\n")
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
	out["server.toml"] = s.String()

	for _, sec := range d.order {
		release, ok := strings.CutPrefix(sec, "workers-")
		if !ok {
			continue
		}
		keys := make([]string, 0, len(d.sections[sec]))
		for k := range d.sections[sec] {
			if k != "workdir" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, arch := range keys {
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
			fmt.Fprintf(&w, "[worker]\nserver = [%q]\ntoken-file = \"/etc/fbs/worker.token\"\narch = [%q]\nrelease = [%q]\n", serverURL, arch, release)
			out[fmt.Sprintf("worker-%s-%s.toml", arch, release)] = w.String()
		}
	}
	return out, nil
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
