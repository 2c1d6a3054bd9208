package spec

// The request's image section, asked for what it says, so that callers
// need not know which of Boot, DVD and Live says it.

// section is what each image section answers; nil fields are what the
// section does not have.
type section struct {
	label, product, version, releasever *string
	compression, config, kickstart      *string
}

func (r *Request) section() section {
	switch {
	case r.Live != nil:
		l := r.Live
		return section{label: &l.Label, product: &l.Product, version: &l.Releasever, releasever: &l.Releasever, compression: &l.Compression,
			config: &l.Config, kickstart: &l.Kickstart}
	case r.DVD != nil:
		d := r.DVD
		return section{label: &d.Label, product: &d.Name, version: &d.Version, compression: &d.Compression,
			config: &d.Config, kickstart: &d.Kickstart}
	case r.Boot != nil:
		b := r.Boot
		return section{label: &b.Label, product: &b.Product, version: &b.Version, compression: &b.Compression}
	}
	return section{}
}

func get(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Label is the image's volume id (set by Validate).
func (r *Request) Label() string { return get(r.section().label) }

// Product is the product the image is of: [boot] product, [dvd] name, [live] product.
func (r *Request) Product() string { return get(r.section().product) }

// Version is the product's version ([live]: its releasever).
func (r *Request) Version() string { return get(r.section().version) }

// Releasever is $releasever for the repos: [live] releasever, else the release.
func (r *Request) Releasever() string {
	if v := get(r.section().releasever); v != "" {
		return v
	}
	return r.Release
}

// Compression is the squashfs compressor of the image's root.
func (r *Request) Compression() string { return get(r.section().compression) }

// RootFS is the root image's filesystem: squashfs, or erofs for a live
// image that asks for it.
func (r *Request) RootFS() string {
	if r.Live != nil && r.Live.RootFS != "" {
		return r.Live.RootFS
	}
	return "squashfs"
}

// SetCompression sets the compressor of every image type's root (fbs
// build --compression); Validate checks it.
func (r *Request) SetCompression(c string) {
	if p := r.section().compression; p != nil {
		*p = c
	}
}

// HasKickstart says the image is made from a kickstart (DVD and live; a
// boot ISO's packages are the installer's runtime set).
func (r *Request) HasKickstart() bool { return r.section().config != nil }

// Kickstart is the request's kickstart: its path or URL (ref), or its
// text carried in the request (text, named ref when ref is set).
func (r *Request) Kickstart() (ref, text string) {
	s := r.section()
	return get(s.config), get(s.kickstart)
}

// SetKickstart puts a kickstart into a DVD or live request; it reports
// false for a request that takes none.
func (r *Request) SetKickstart(ref, text string) bool {
	s := r.section()
	if s.config == nil {
		return false
	}
	*s.config, *s.kickstart = ref, text
	return true
}
