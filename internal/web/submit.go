package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"

	"fbs/internal/api"
	"fbs/internal/auth"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// sampleSpec is what the INI part of the submit page starts from: the demo's shape.
const sampleSpec = `[DEFAULT]
type=live
arch=x86_64
release=40
email=

[live]
label=Fedora-Mini-Live
title=Mini
product=fedora
releasever=40
config=https://example.org/fedora-live-mini.ks
`

// formDefaults are the submit form's values before the user's.
var formDefaults = url.Values{"type": {"live"}, "arch": {"x86_64"}, "compression": {"xz"}}

// submitPage is the form: empty, or with ?from=ID a copy of that build's
// request to change and send again.
func (s *Server) submitPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("from")
	if id == "" {
		s.renderSubmit(w, r, http.StatusOK, map[string]any{"F": formDefaults})
		return
	}
	r.SetPathValue("id", id)
	b, ok := s.get(w, r)
	if !ok {
		return
	}
	req, err := spec.ParseJSON("request", b.Request)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, fmt.Errorf("build %s's request: %w", b.ID, err))
		return
	}
	s.renderSubmit(w, r, http.StatusOK, map[string]any{"F": toForm(req), "From": b.ID})
}

func (s *Server) renderSubmit(w http.ResponseWriter, r *http.Request, code int, data map[string]any) {
	if data["Spec"] == nil {
		data["Spec"] = sampleSpec
	}
	if data["F"] == nil {
		data["F"] = formDefaults
	}
	data["Types"] = imageTypes
	data["Firmwares"] = []string{"bios", "uefi"}
	s.render(w, r, code, "submit", data)
}

// submit files the form's request, or the pasted or uploaded INI (and its
// kickstart, when uploaded), and goes to its page; a bad one comes back
// with the error next to its field, what was typed kept.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	form := r.MultipartForm
	if form == nil {
		form = &multipart.Form{Value: r.PostForm}
	}
	requester := ""
	if u := auth.From(r.Context()); u != nil {
		requester = u.Name
	}
	ini := r.PostFormValue("form") == "ini"
	var text []byte
	var req *spec.Request
	var err error
	if ini {
		var ks []byte
		text, ks = iniForm(form)
		req, err = api.ParseSpec(text, ks)
	} else {
		req, err = fromForm(r.Context(), form, s.Egress)
	}
	var b *store.Build
	if err == nil {
		b, err = s.API.Submit(r.Context(), req, requester)
	}
	var se *spec.Error
	var fe *fieldError
	values := url.Values(form.Value)
	switch {
	case ini && errors.As(err, &se):
		s.renderSubmit(w, r, http.StatusBadRequest, map[string]any{"Spec": string(text), "Error": se.Msg, "Field": se.Key, "Line": se.Line})
	case errors.As(err, &se):
		s.renderSubmit(w, r, http.StatusBadRequest, map[string]any{"F": values, "Errors": map[string]string{formField(values.Get("type"), se.Key): se.Msg}})
	case errors.As(err, &fe):
		s.renderSubmit(w, r, http.StatusBadRequest, map[string]any{"F": values, "Errors": map[string]string{fe.Field: fe.Msg}})
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, err)
	default:
		http.Redirect(w, r, "/builds/"+b.ID, http.StatusSeeOther)
	}
}

// iniForm is the INI request (pasted, or uploaded instead) and the
// kickstart uploaded with it.
func iniForm(f *multipart.Form) (text, ks []byte) {
	text = []byte(url.Values(f.Value).Get("spec"))
	if _, data, _ := uploaded(f, "specfile"); len(data) > 0 {
		text = data
	}
	_, ks, _ = uploaded(f, "kickstart")
	return text, ks
}
