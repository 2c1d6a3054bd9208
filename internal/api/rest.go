package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"fbs/internal/spec"
)

// seedREST is the body of the 2012 service's POST /rest: the INI request,
// the kickstart's file name and its text. The old client, cli/build_rest.py,
// ran json.dumps on the INI and the kickstart before it built the object, so
// each is a JSON string whose content is itself a JSON string literal; the
// file name it sent as it was, and the 2012 server's json.loads(json.dumps(…))
// took either.
type seedREST struct {
	Config *string `json:"config"`
	KSName *string `json:"ksfname"`
	KS     *string `json:"ks"`
}

// parseSeedREST reads the 2012 service's call as it was.
func parseSeedREST(r *http.Request) (*spec.Request, error) {
	var raw seedREST
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, &spec.Error{Msg: "the body is not the 2012 service's {config, ksfname, ks} object: " + err.Error()}
	}
	config, err := unquote("config", raw.Config)
	if err != nil {
		return nil, err
	}
	if config == "" {
		return nil, &spec.Error{Key: "config", Msg: "missing: the INI request"}
	}
	req, err := spec.ParseINI("config", strings.NewReader(config))
	if err != nil {
		return nil, err
	}
	ks, err := unquote("ks", raw.KS)
	if err != nil || ks == "" {
		return req, err
	}
	name := plainOrQuoted(raw.KSName)
	switch {
	case req.Live != nil:
		req.Live.Config, req.Live.Kickstart = name, ks
	case req.DVD != nil:
		req.DVD.Config, req.DVD.Kickstart = name, ks
	}
	return req, nil
}

// unquote undoes the old client's json.dumps: the value is a JSON string
// literal; null and absent values are empty.
func unquote(field string, v *string) (string, error) {
	if v == nil {
		return "", nil
	}
	var s *string
	if err := json.Unmarshal([]byte(*v), &s); err != nil {
		return "", &spec.Error{Key: field, Msg: "not a JSON-encoded string, as the 2012 client sent it: " + err.Error()}
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// plainOrQuoted reads the file name as the 2012 server did: a JSON string
// literal is unquoted, anything else is the name itself.
func plainOrQuoted(v *string) string {
	if v == nil {
		return ""
	}
	var s *string
	if json.Unmarshal([]byte(*v), &s) != nil {
		return *v
	}
	if s == nil {
		return ""
	}
	return *s
}
