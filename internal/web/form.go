package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fbs/internal/egress"
	"fbs/internal/kickstart"
	"fbs/internal/spec"
)

// fieldError is bad input in the form, shown next to its field.
type fieldError struct{ Field, Msg string }

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }

// fromForm makes a request of the submit form's fields: those common to
// every type, and those of the chosen type (the others are ignored). A
// kickstart URL is fetched where pol allows.
func fromForm(ctx context.Context, f *multipart.Form, pol *egress.Policy) (*spec.Request, error) {
	v := url.Values(f.Value)
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	req := &spec.Request{Type: get("type"), Arch: get("arch"), Release: get("release"), Staging: get("staging"),
		Email: spec.SplitList(get("email")), NVR: spec.SplitList(get("nvr")), Webhook: get("webhook"), BootTest: v["boottest"]}
	for _, w := range spec.SplitList(get("bid")) {
		id, err := strconv.Atoi(w)
		if err != nil {
			return nil, &fieldError{"bid", fmt.Sprintf("%q is not a Koji build id (a number)", w)}
		}
		req.BuildID = append(req.BuildID, id)
	}
	comp := get("compression")
	switch req.Type {
	case "boot":
		var timeout *int
		if t := get("boot.timeout"); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil {
				return nil, &fieldError{"boot.timeout", fmt.Sprintf("%q is not a number of seconds", t)}
			}
			timeout = &n
		}
		req.Boot = &spec.Boot{Append: get("boot.append"), Timeout: timeout, Product: get("boot.product"), Version: get("boot.version"), Proxy: get("boot.proxy"),
			Updates: v.Get("boot.updates") != "", UpdatesTesting: v.Get("boot.updates_testing") != "",
			Repo:        spec.RepoSource{URL: get("boot.repo_url"), Mirror: get("boot.repo_mirror")},
			UpdatesRepo: spec.RepoSource{URL: get("boot.updates_url"), Mirror: get("boot.updates_mirror")},
			TestingRepo: spec.RepoSource{URL: get("boot.testing_url"), Mirror: get("boot.testing_mirror")}, Compression: comp}
	case "dvd":
		ref, text, err := formKickstart(ctx, f, "dvd", pol)
		if err != nil {
			return nil, err
		}
		req.DVD = &spec.DVD{Name: get("dvd.product"), Flavor: get("dvd.flavor"), Config: ref, Kickstart: text, Compression: comp}
	case "live":
		ref, text, err := formKickstart(ctx, f, "live", pol)
		if err != nil {
			return nil, err
		}
		req.Live = &spec.Live{Product: get("live.product"), Title: get("live.title"), Label: get("live.label"), Config: ref, Kickstart: text, Compression: comp,
			RootFS: get("live.rootfs")}
	default:
		return nil, &fieldError{"type", "choose the image: boot, DVD or live"}
	}
	if err := req.Validate(); err != nil {
		var se *spec.Error
		if errors.As(err, &se) {
			return nil, &fieldError{formField(req.Type, se.Key), se.Msg}
		}
		return nil, err
	}
	return req, nil
}

// formKickstart is the type's kickstart: uploaded, pasted, or by URL, in
// that order of precedence. It is read and parsed now, so a kickstart that cannot be fetched or has a bad
// line is said at once, next to its field, rather than when a worker
// builds it.
func formKickstart(ctx context.Context, f *multipart.Form, typ string, pol *egress.Policy) (ref, text string, err error) {
	field := typ + ".kickstart"
	u := strings.TrimSpace(url.Values(f.Value).Get(typ + ".kickstart_url"))
	pasted := strings.ReplaceAll(url.Values(f.Value).Get(typ+".kickstart_text"), "\r\n", "\n")
	name, data, err := uploaded(f, typ+".kickstart_file")
	if err != nil {
		return "", "", err
	}
	if len(data) > 0 {
		ref, text = cleanName(name), string(data)
	} else if strings.TrimSpace(pasted) != "" {
		ref, text = typ+".ks", pasted
	} else if u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https" && p.Scheme != "ftp") || p.Host == "" {
			return "", "", &fieldError{field, fmt.Sprintf("%q is not an http, https or ftp URL", u)}
		}
		ref = u
	} else {
		return "", "", &fieldError{field, "upload the kickstart, paste it, or give its URL"}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := kickstart.Read(ctx, &kickstart.FileLoader{NoLocal: true, Egress: pol}, ref, text); err != nil {
		return "", "", &fieldError{field, err.Error()}
	}
	return ref, text, nil
}

// uploaded is the file sent in the form's field, if any: its name and data.
func uploaded(f *multipart.Form, field string) (string, []byte, error) {
	files := f.File[field]
	if len(files) == 0 || files[0].Size == 0 {
		return "", nil, nil
	}
	fh, err := files[0].Open()
	if err != nil {
		return "", nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	return files[0].Filename, data, err
}

// cleanName keeps an uploaded file's base name for the build's records.
func cleanName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	if name == "" || strings.HasPrefix(name, ".") {
		return "upload.ks"
	}
	return name
}

// formField is the form field a validation error's key names.
func formField(typ, key string) string {
	switch {
	case key == "config" || strings.HasSuffix(key, ".config") || key == "kickstart":
		return typ + ".kickstart"
	case typ == "boot" && strings.HasSuffix(key, "_url"):
		return "boot.repo_url"
	case key == "updates" || key == "updates_testing":
		return "boot." + key
	case strings.HasSuffix(key, ".compression"):
		return "compression"
	}
	return key
}

type imageType struct{ Value, Label string }

var imageTypes = []imageType{{"live", "Live ISO"}, {"boot", "Boot (installer) ISO"}, {"dvd", "DVD ISO (installer and packages)"}}

// input is one form field as its template shows it.
type input struct {
	ID, Name, Label, Kind, Hint, Value, URL, Text, Error string
	Options                                              []string
}

// field describes the submit page's field name from the page's data: its
// value as last sent and its error. args are label, kind and hint.
func field(data map[string]any, name string, args ...string) input {
	f, _ := data["F"].(url.Values)
	errs, _ := data["Errors"].(map[string]string)
	in := input{ID: strings.ReplaceAll(name, ".", "-"), Name: name, Value: f.Get(name), URL: f.Get(name + "_url"), Text: f.Get(name + "_text"), Error: errs[name]}
	if len(args) == 3 {
		in.Label, in.Kind, in.Hint = args[0], args[1], args[2]
	}
	if in.Kind == "select" {
		in.Options, in.Hint = strings.Fields(in.Hint), ""
	}
	return in
}

// anchor is the id of the input a field's error links to.
func anchor(field string) string {
	switch {
	case field == "type":
		return "type-live"
	case strings.HasSuffix(field, ".kickstart"):
		return strings.ReplaceAll(field, ".", "-") + "-file"
	}
	return strings.ReplaceAll(field, ".", "-")
}

// toForm is a request as the submit form's fields, for a copy of a build.
func toForm(req *spec.Request) url.Values {
	v := url.Values{"type": {req.Type}, "arch": {req.Arch}, "release": {req.Release}, "staging": {req.Staging},
		"email": {strings.Join(req.Email, ", ")}, "nvr": {strings.Join(req.NVR, "\n")}, "webhook": {req.Webhook}, "boottest": req.BootTest}
	var ids []string
	for _, id := range req.BuildID {
		ids = append(ids, strconv.Itoa(id))
	}
	v.Set("bid", strings.Join(ids, " "))
	kickstart := func(typ, config, text string) {
		if text != "" {
			v.Set(typ+".kickstart_text", text)
		} else {
			v.Set(typ+".kickstart_url", config)
		}
	}
	switch {
	case req.Boot != nil:
		b := req.Boot
		v.Set("compression", b.Compression)
		for k, val := range map[string]string{"product": b.Product, "version": b.Version, "proxy": b.Proxy, "append": b.Append,
			"repo_url": b.Repo.URL, "repo_mirror": b.Repo.Mirror, "updates_url": b.UpdatesRepo.URL, "updates_mirror": b.UpdatesRepo.Mirror,
			"testing_url": b.TestingRepo.URL, "testing_mirror": b.TestingRepo.Mirror} {
			v.Set("boot."+k, val)
		}
		if b.Updates {
			v.Set("boot.updates", "1")
		}
		if b.UpdatesTesting {
			v.Set("boot.updates_testing", "1")
		}
		if b.Timeout != nil {
			v.Set("boot.timeout", strconv.Itoa(*b.Timeout))
		}
	case req.DVD != nil:
		v.Set("compression", req.DVD.Compression)
		v.Set("dvd.product", req.DVD.Name)
		v.Set("dvd.flavor", req.DVD.Flavor)
		kickstart("dvd", req.DVD.Config, req.DVD.Kickstart)
	case req.Live != nil:
		l := req.Live
		v.Set("compression", l.Compression)
		v.Set("live.product", l.Product)
		v.Set("live.title", l.Title)
		v.Set("live.label", l.Label)
		v.Set("live.rootfs", l.RootFS)
		kickstart("live", l.Config, l.Kickstart)
	}
	return v
}
