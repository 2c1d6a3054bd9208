package web

import "testing"

func TestRequestText(t *testing.T) {
	tests := map[string]struct{ json, ini, ks string }{
		"live with kickstart": {
			`{"type":"live","arch":"x86_64","release":"40","boottest":["bios","uefi"],"nvr":["a-1-1"],"live":{"label":"L","compression":"xz","kickstart":"url --url=x\n%packages\n%end\n"}}`,
			"[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\nboottest=bios,uefi\n[live]\nnvr=a-1-1\ncompression=xz\nconfig=request.ks\nlabel=L\n",
			"url --url=x\n%packages\n%end\n"},
		"boot repos": {
			`{"type":"boot","arch":"x86_64","release":"41","boot":{"updates_testing":true,"repo":{"url":"http://m/41"},"timeout":5}}`,
			"[DEFAULT]\ntype=boot\narch=x86_64\nrelease=41\n[boot]\n41_url=http://m/41\ntimeout=5\nupdates-testing=1\n", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ini, ks := requestText([]byte(tc.json))
			if ini != tc.ini || ks != tc.ks {
				t.Errorf("got\n%s--\n%s\nwant\n%s--\n%s", ini, ks, tc.ini, tc.ks)
			}
		})
	}
}

func TestLogLines(t *testing.T) {
	lines, first := logLines("2026-11-30T03:56:39.247Z === stage packages\n2026-11-30T03:56:39.248Z   dnf: Error: Unable to find a match: foo\n")
	if !first || len(lines) != 2 || lines[0].Err || !lines[1].Err {
		t.Errorf("%v %+v", first, lines)
	}
}
