package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ParseJSON reads the canonical JSON form of a request; unknown fields are errors.
func ParseJSON(name string, data []byte) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, jsonError(name, data, dec, err)
	}
	if dec.More() {
		return nil, &Error{File: name, Line: lineAt(data, dec.InputOffset()), Msg: "data after the request object"}
	}
	if err := r.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = name
		}
		return nil, err
	}
	return &r, nil
}

func jsonError(name string, data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &Error{File: name, Line: lineAt(data, syn.Offset), Msg: "invalid JSON: " + syn.Error()}
	case errors.As(err, &typ):
		return &Error{File: name, Line: lineAt(data, typ.Offset), Key: typ.Field, Msg: fmt.Sprintf("expected %s, got JSON %s", typ.Type, typ.Value)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{File: name, Msg: "invalid JSON: unexpected end of input"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{File: name, Line: lineAt(data, dec.InputOffset()), Key: field, Msg: "unknown field"}
	}
	return &Error{File: name, Msg: "invalid JSON: " + err.Error()}
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// Parse reads a request in either form: JSON when it starts with '{', else the seed's INI.
func Parse(name string, data []byte) (*Request, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return ParseJSON(name, data)
	}
	return ParseINI(name, bytes.NewReader(data))
}

// Load reads a request file; relative paths in it resolve against its directory.
func Load(path string) (*Request, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the request: %v", errors.Unwrap(err))}
	}
	r, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	r.Dir, r.Source = abs, path
	return r, nil
}
