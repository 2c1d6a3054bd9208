// Package config reads fbs's configuration file: TOML with a [server]
// table for fbs serve and a [worker] table for fbs worker, whose keys are
// the flags of that command (listen = "0.0.0.0:8080", lease = "30s",
// release = ["40", "rawhide"]). FBS_<FLAG> environment variables override
// the file; flags on the command line override both.
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/spf13/pflag"
)

// DefaultPath is read when it exists and no --config is given.
const DefaultPath = "/etc/fbs/fbs.toml"

// Problem is one thing wrong with a configuration, where it is.
type Problem struct {
	File string
	Line int    // 0 when not from the file
	Key  string // section.key, or $FBS_X
	Msg  string
}

func (p Problem) Error() string {
	at := p.File
	if p.Line > 0 {
		at = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Key == "" {
		return at + ": " + p.Msg
	}
	return at + ": " + p.Key + ": " + p.Msg
}

// Problems is every problem found, as one error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// BadInput marks a bad configuration as the user's to correct.
func (ps Problems) BadInput() bool { return true }

// File is a parsed configuration file.
type File struct {
	Path   string
	tables map[string]map[string]any
	lines  map[string]int // "section.key" → line
}

// Load reads the file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a configuration's text; path names it in problems.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, lines: map[string]int{}}
	if err := toml.Unmarshal(data, &f.tables); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			msg := de.Error()
			if strings.Contains(msg, "cannot decode") {
				msg = "every top-level key must be in a table: [server] or [worker]"
			}
			return nil, Problems{{File: path, Line: line, Msg: msg}}
		}
		return nil, Problems{{File: path, Msg: "every top-level key must be a table: [server] or [worker] (" + err.Error() + ")"}}
	}
	p := unstable.Parser{}
	p.Reset(data)
	section := ""
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		for it := e.Key(); it.Next(); {
			parts = append(parts, string(it.Node().Data))
		}
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			section = strings.Join(parts, ".")
		case unstable.KeyValue:
			key := strings.Join(parts, ".")
			if section != "" {
				key = section + "." + key
			}
			it := e.Key()
			it.Next()
			f.lines[key] = p.Shape(it.Node().Raw).Start.Line
		}
	}
	return f, nil
}

// Sections are the tables a file may have, each for a command.
var Sections = []string{"server", "worker"}

// EnvName is the environment variable for a flag.
func EnvName(flag string) string {
	return "FBS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// NotSetting marks a flag (pflag annotation) that is an action, not a
// setting: it has no key.
const NotSetting = "fbs-not-a-setting"

// skipped are flags that are not settings.
func skipped(fl *pflag.Flag) bool {
	_, action := fl.Annotations[NotSetting]
	return fl.Name == "config" || fl.Name == "help" || fl.Hidden || action
}

// Apply sets every flag of fs not given on the command line from the
// environment, or else from the file's section (f may be nil), and
// returns every problem it met.
func (f *File) Apply(fs *pflag.FlagSet, section string, getenv func(string) string) error {
	var ps Problems
	fs.VisitAll(func(fl *pflag.Flag) {
		if skipped(fl) || fl.Changed {
			return
		}
		if v := getenv(EnvName(fl.Name)); v != "" {
			if err := fs.Set(fl.Name, v); err != nil {
				ps = append(ps, Problem{File: "environment", Key: "$" + EnvName(fl.Name), Msg: err.Error()})
			}
			return
		}
		if f == nil {
			return
		}
		raw, ok := f.tables[section][fl.Name]
		if !ok {
			return
		}
		key := section + "." + fl.Name
		var err error
		if l, ok := raw.([]any); ok && isSlice(fl) {
			// Element by element: an element may hold a comma.
			parts := make([]string, len(l))
			for i, e := range l {
				if parts[i], err = text(e); err != nil {
					break
				}
			}
			if err == nil {
				err = fl.Value.(pflag.SliceValue).Replace(parts)
				fl.Changed = true
			}
		} else {
			var v string
			if v, err = text(raw); err == nil {
				err = fs.Set(fl.Name, v)
			}
		}
		if err != nil {
			ps = append(ps, Problem{File: f.Path, Line: f.lines[key], Key: key, Msg: err.Error()})
		}
	})
	if f != nil {
		ps = append(ps, f.unknown(fs, section)...)
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		return ps
	}
	return nil
}

// unknown names the keys of section that are no flag of fs, and the
// tables that are no section.
func (f *File) unknown(fs *pflag.FlagSet, section string) []Problem {
	var ps []Problem
	for name, table := range f.tables {
		if !known(name) {
			ps = append(ps, Problem{File: f.Path, Key: name, Msg: "unknown table (known: [server], [worker])"})
			continue
		}
		if name != section {
			continue
		}
		for key := range table {
			if fl := fs.Lookup(key); fl == nil || skipped(fl) {
				ps = append(ps, Problem{File: f.Path, Line: f.lines[section+"."+key], Key: section + "." + key, Msg: "unknown key (fbs config example lists them)"})
			}
		}
	}
	return ps
}

func known(section string) bool {
	for _, s := range Sections {
		if s == section {
			return true
		}
	}
	return false
}

func isSlice(fl *pflag.Flag) bool {
	_, ok := fl.Value.(pflag.SliceValue)
	return ok
}

// text is a TOML value as a flag takes it.
func text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64, float64, bool:
		return fmt.Sprint(v), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := text(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("a %T is not a value here (a string, number, boolean or array of them)", v)
}
