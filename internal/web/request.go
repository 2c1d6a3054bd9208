package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// requestText is a build's request as the tester wrote it: the seed's INI
// ([DEFAULT] and the image's section) and the kickstart it carries, not
// the stored JSON with the kickstart as one escaped string.
func requestText(raw json.RawMessage) (ini, ks string) {
	var req map[string]any
	if json.Unmarshal(raw, &req) != nil {
		return string(raw), ""
	}
	typ, _ := req["type"].(string)
	release, _ := req["release"].(string)
	var b strings.Builder
	b.WriteString("[DEFAULT]\n")
	for _, k := range []string{"type", "arch", "release", "staging", "email", "webhook", "boottest"} {
		writeKey(&b, k, req[k])
	}
	sec, _ := req[typ].(map[string]any)
	fmt.Fprintf(&b, "[%s]\n", typ)
	for _, k := range []string{"nvr", "bid"} {
		writeKey(&b, k, req[k])
	}
	keys := make([]string, 0, len(sec))
	for k := range sec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// Boot's repos are keyed by release in the seed's format.
	repoKeys := map[string]string{"repo": release, "updates_repo": release + "-updates", "updates_testing_repo": release + "-updates-testing"}
	for _, k := range keys {
		switch v := sec[k].(type) {
		case map[string]any:
			writeKey(&b, repoKeys[k]+"_url", v["url"])
			writeKey(&b, repoKeys[k]+"_mirror", v["mirror"])
		default:
			if k == "kickstart" {
				ks, _ = v.(string)
				if sec["config"] == nil {
					writeKey(&b, "config", "request.ks")
				}
				continue
			}
			writeKey(&b, strings.ReplaceAll(k, "_", "-"), v)
		}
	}
	return b.String(), ks
}

// writeKey writes key=value, lists joined by commas; nothing for no value.
func writeKey(b *strings.Builder, key string, v any) {
	switch v := v.(type) {
	case nil:
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, fmt.Sprint(x))
		}
		fmt.Fprintf(b, "%s=%s\n", key, strings.Join(s, ","))
	case bool:
		if v {
			fmt.Fprintf(b, "%s=1\n", key)
		}
	case float64:
		fmt.Fprintf(b, "%s=%g\n", key, v)
	default:
		if s := fmt.Sprint(v); s != "" {
			fmt.Fprintf(b, "%s=%s\n", key, s)
		}
	}
}
