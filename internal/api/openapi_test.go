package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fbs/internal/bootcheck"
	"fbs/internal/queue"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// document is what the tests read of openapi.json.
type document struct {
	Paths map[string]map[string]struct {
		OperationID string                     `json:"operationId"`
		Responses   map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func readDocument(t *testing.T) document {
	t.Helper()
	var doc document
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIOperations: each operation has its own operationId and says
// how it answers a client at fault (a 4xx).
func TestOpenAPIOperations(t *testing.T) {
	ids := map[string]string{}
	for path, ops := range readDocument(t).Paths {
		for method, o := range ops {
			op := strings.ToUpper(method) + " " + path
			if o.OperationID == "" || ids[o.OperationID] != "" {
				t.Errorf("%s: operationId %q is missing or also %s's", op, o.OperationID, ids[o.OperationID])
			}
			ids[o.OperationID] = op
			if !slices.ContainsFunc(slices.Collect(maps.Keys(o.Responses)), func(code string) bool { return code[0] == '4' }) {
				t.Errorf("%s: no 4xx response", op)
			}
		}
	}
}

// TestOpenAPISchemas: the document's objects have the JSON fields of the
// types the API reads and writes, no more and no fewer.
func TestOpenAPISchemas(t *testing.T) {
	doc := readDocument(t)
	tests := map[string]any{
		"Request":      spec.Request{},
		"Boot":         spec.Boot{},
		"DVD":          spec.DVD{},
		"Live":         spec.Live{},
		"RepoSource":   spec.RepoSource{},
		"Build":        Build{},
		"Stage":        Stage{},
		"Artifact":     queue.Artifact{},
		"BootTest":     bootcheck.Result{},
		"Notification": store.Notification{},
		"Worker":       store.Worker{},
		"Error":        apiError{},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			schema, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("no schema %s", name)
			}
			want := jsonFields(reflect.TypeOf(v))
			got := slices.Sorted(maps.Keys(schema.Properties))
			if !slices.Equal(got, want) {
				t.Errorf("properties %v, want %v", got, want)
			}
		})
	}
}

// jsonFields are the names encoding/json gives t's fields, embedded
// structs' included, sorted.
func jsonFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "" && ft.Kind() == reflect.Struct:
			names = append(names, jsonFields(ft)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
