package spec

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// iniFile is the seed's request format as Python's ConfigParser read it:
// sections, "key=value" or "key: value", '#'/';' comments, continuation lines,
// and a [DEFAULT] section whose keys every other section inherits. Our own
// reader keeps the line of every key so that errors can name it.
type iniFile struct {
	sections map[string]*iniSection
}

type iniSection struct {
	name string
	line int
	keys map[string]iniValue
}

type iniValue struct {
	value string
	line  int
}

func parseINI(name string, r io.Reader) (*iniFile, error) {
	f := &iniFile{sections: map[string]*iniSection{}}
	var cur *iniSection
	lastKey := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			lastKey = ""
			continue
		case raw[0] == ' ' || raw[0] == '\t':
			if cur == nil || lastKey == "" {
				return nil, &Error{File: name, Line: n, Msg: "indented line continues no key"}
			}
			v := cur.keys[lastKey]
			v.value += "\n" + line
			cur.keys[lastKey] = v
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, &Error{File: name, Line: n, Msg: fmt.Sprintf("section header %q lacks its closing ]", line)}
			}
			sec := strings.TrimSpace(line[1 : len(line)-1])
			if _, dup := f.sections[sec]; dup {
				return nil, &Error{File: name, Line: n, Msg: fmt.Sprintf("section [%s] appears twice", sec)}
			}
			cur = &iniSection{name: sec, line: n, keys: map[string]iniValue{}}
			f.sections[sec] = cur
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, &Error{File: name, Line: n, Msg: "key outside any section (start with [DEFAULT])"}
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, &Error{File: name, Line: n, Msg: fmt.Sprintf("expected key=value, got %q", line)}
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		if _, dup := cur.keys[key]; dup {
			return nil, &Error{File: name, Line: n, Key: key, Msg: fmt.Sprintf("key %q set twice in [%s]", key, cur.name)}
		}
		cur.keys[key] = iniValue{value: strings.TrimSpace(line[i+1:]), line: n}
		lastKey = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return f, nil
}
