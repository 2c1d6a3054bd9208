package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"fbs/internal/queue"
	"fbs/internal/store"
)

// Message is an email about a build.
type Message struct {
	BuildID, Subject, Text, HTML string
}

type view struct {
	B         *store.Build
	Event     string
	URL       string
	LogURL    string
	Took      string
	Artifacts []queue.Artifact
	Base      string
	Tail      string
}

var textTmpl = template.Must(template.New("text").Parse(`{{if eq .Event "accepted"}}Your {{.B.Type}} image build ({{.B.Arch}}, release {{.B.Release}}) is accepted: {{.B.ID}}.

Build: {{.URL}}
Log, as it grows: {{.LogURL}}
{{else}}Your {{.B.Type}} image build {{.B.ID}} ({{.B.Arch}}, release {{.B.Release}}) has {{.B.State}}{{if .Took}} after {{.Took}}{{end}}.
{{if .B.Error}}
Why: {{.B.Error}}
{{end}}
{{if .URL}}Build: {{.URL}}
{{end}}{{if .LogURL}}Log: {{.LogURL}}{{end}}
{{if .Artifacts}}
Artifacts:
{{range .Artifacts}}  {{$.Base}}{{.URL}}
    {{.Size}} bytes{{if .SHA256}}, sha256 {{.SHA256}}{{end}}
{{end}}{{end}}{{if .Tail}}
The log's last lines:
{{.Tail}}{{end}}{{end}}
-- 
fbs, the Fedora image build service
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html><body>
{{if eq .Event "accepted"}}<p>Your {{.B.Type}} image build ({{.B.Arch}}, release {{.B.Release}}) is accepted: <a href="{{.URL}}">{{.B.ID}}</a>.</p>
<p><a href="{{.LogURL}}">Its log</a>, as it grows.</p>
{{else}}<p>Your {{.B.Type}} image build {{if .URL}}<a href="{{.URL}}">{{.B.ID}}</a>{{else}}{{.B.ID}}{{end}} ({{.B.Arch}}, release {{.B.Release}}) has <strong>{{.B.State}}</strong>{{if .Took}} after {{.Took}}{{end}}.</p>
{{if .B.Error}}<p>Why: {{.B.Error}}</p>{{end}}
{{if .LogURL}}<p><a href="{{.LogURL}}">The log</a></p>{{end}}
{{if .Artifacts}}<ul>{{range .Artifacts}}<li><a href="{{$.Base}}{{.URL}}">{{.Name}}</a>, {{.Size}} bytes{{if .SHA256}}, sha256 <code>{{.SHA256}}</code>{{end}}</li>{{end}}</ul>{{end}}
{{if .Tail}}<p>The log's last lines:</p><pre>{{.Tail}}</pre>{{end}}{{end}}
<p>— fbs, the Fedora image build service</p>
</body></html>
`))

// Compose writes the email for a build's event; base is the server's
// public URL, tail the last lines of its log (shown on failure).
func Compose(b *store.Build, event, base, tail string) Message {
	base = strings.TrimSuffix(base, "/")
	return compose(b, event, view{Base: base, URL: base + "/api/v1/builds/" + b.ID, LogURL: base + "/api/v1/builds/" + b.ID + "/log"}, tail)
}

// ComposeLocal writes the email about a build fbs build made here: its
// artifacts' URLs are where they were staged, log where its log is.
func ComposeLocal(b *store.Build, event, log, tail string) Message {
	return compose(b, event, view{LogURL: log}, tail)
}

func compose(b *store.Build, event string, v view, tail string) Message {
	v.B, v.Event = b, event
	if b.Started != nil && b.Finished != nil {
		v.Took = b.Finished.Sub(*b.Started).Round(time.Second).String()
	}
	json.Unmarshal(b.Artifacts, &v.Artifacts)
	if b.State == store.Failed {
		v.Tail = tail
	}
	subject := fmt.Sprintf("[fbs] %s %s build %s", b.Type, b.Arch, b.State)
	if event == Accepted {
		subject = fmt.Sprintf("[fbs] %s %s build accepted", b.Type, b.Arch)
	}
	var text, html bytes.Buffer
	textTmpl.Execute(&text, v)
	htmlTmpl.Execute(&html, v)
	return Message{BuildID: b.ID, Subject: subject + ": " + b.ID, Text: text.String(), HTML: html.String()}
}
