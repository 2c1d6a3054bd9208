package kickstart

import "errors"

// splitArgs splits a command line as pykickstart does (Python's
// shlex.split(line, comments=True)): on blanks, with single and double
// quotes and backslash escapes, and an unquoted, unescaped '#' ends the
// line, even inside a word ("--hostname=a#b" is "--hostname=a"). Unlike a
// shell it gives '&', ';' and '|' no meaning, as URLs are full of them.
func splitArgs(s string) ([]string, error) {
	var (
		args  []string
		cur   []rune
		inArg bool
		quote rune
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur = append(cur, c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				cur = append(cur, rs[i])
			default:
				cur = append(cur, c)
			}
		case c == '\'' || c == '"':
			quote, inArg = c, true
		case c == '\\':
			if i+1 == len(rs) {
				return nil, errors.New("no character after the final backslash")
			}
			i++
			cur, inArg = append(cur, rs[i]), true
		case c == '#':
			i = len(rs)
		case c == ' ' || c == '\t':
			if inArg {
				args = append(args, string(cur))
				cur, inArg = cur[:0], false
			}
		default:
			cur, inArg = append(cur, c), true
		}
	}
	if quote != 0 {
		return nil, errors.New("no closing quotation")
	}
	if inArg {
		args = append(args, string(cur))
	}
	return args, nil
}
