package spec

import "testing"

// TestRequestSection: each image type's section answers for the request,
// and fbs build --compression reaches every type (a DVD's was dropped).
func TestRequestSection(t *testing.T) {
	tests := map[string]struct {
		json                            string
		label, product, version, relver string
		hasKS                           bool
	}{
		"live": {`{"type":"live","arch":"x86_64","release":"40","live":{"label":"L","product":"p","releasever":"39","kickstart":"x"}}`, "L", "p", "39", "39", true},
		"boot": {`{"type":"boot","arch":"x86_64","release":"40","boot":{"product":"p","repo":{"url":"http://x/"}}}`, "p-40-x86_64", "p", "40", "40", false},
		"dvd":  {`{"type":"dvd","arch":"x86_64","release":"40","dvd":{"name":"n","kickstart":"x"}}`, "n-Everything-dvd-x86_64-40", "n", "40", "40", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseJSON("request", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if r.Label() != tc.label || r.Product() != tc.product || r.Version() != tc.version || r.Releasever() != tc.relver || r.HasKickstart() != tc.hasKS {
				t.Errorf("label %q product %q version %q releasever %q kickstart %v", r.Label(), r.Product(), r.Version(), r.Releasever(), r.HasKickstart())
			}
			if r.Compression() != "xz" || r.RootFS() != "squashfs" {
				t.Errorf("default compression %q, rootfs %q", r.Compression(), r.RootFS())
			}
			r.SetCompression("zstd")
			if r.Compression() != "zstd" {
				t.Errorf("SetCompression: %q", r.Compression())
			}
			if ok := r.SetKickstart("a.ks", "text"); ok != tc.hasKS {
				t.Errorf("SetKickstart = %v", ok)
			}
			if ref, text := r.Kickstart(); tc.hasKS && (ref != "a.ks" || text != "text") {
				t.Errorf("Kickstart = %q, %q", ref, text)
			}
		})
	}
}

// TestRootFS: a live image's root image filesystem, its compressor's
// default and the compressors each filesystem takes.
func TestRootFS(t *testing.T) {
	tests := map[string]struct {
		live, rootfs, compression, err string
	}{
		"default":        {`{"kickstart":"x"}`, "squashfs", "xz", ""},
		"squashfs fast":  {`{"kickstart":"x","compression":"fast"}`, "squashfs", "fast", ""},
		"erofs":          {`{"kickstart":"x","rootfs":"erofs"}`, "erofs", "lz4hc", ""},
		"erofs lz4":      {`{"kickstart":"x","rootfs":"erofs","compression":"lz4"}`, "erofs", "lz4", ""},
		"erofs fast":     {`{"kickstart":"x","rootfs":"erofs","compression":"fast"}`, "erofs", "fast", ""},
		"erofs xz":       {`{"kickstart":"x","rootfs":"erofs","compression":"xz"}`, "erofs", "xz", ""},
		"erofs zstd":     {`{"kickstart":"x","rootfs":"erofs","compression":"zstd"}`, "", "", `request: live.compression: rootfs=erofs: unknown EROFS compressor "zstd" (one of lz4hc, lz4, lzma, xz, fast)`},
		"squashfs lz4hc": {`{"kickstart":"x","compression":"lz4hc"}`, "", "", `request: live.compression: unknown compressor "lz4hc" (one of xz, zstd, gzip, lz4, lzo, fast)`},
		"unknown rootfs": {`{"kickstart":"x","rootfs":"btrfs"}`, "", "", `request: live.rootfs: unknown root image filesystem "btrfs" (squashfs or erofs)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseJSON("request", []byte(`{"type":"live","arch":"x86_64","release":"42","live":`+tc.live+`}`))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.RootFS() != tc.rootfs || r.Compression() != tc.compression {
				t.Errorf("rootfs %q compression %q, want %q %q", r.RootFS(), r.Compression(), tc.rootfs, tc.compression)
			}
		})
	}
}
