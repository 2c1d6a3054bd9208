package build

import (
	"context"
	"fmt"
	"path/filepath"

	"fbs/internal/beneath"
	"fbs/internal/kickstart"
)

// readKickstart reads the request's kickstart (DVD and live requests have
// one), %include flattened; its repos are the build's.
func (b *build) readKickstart(ctx context.Context) (string, error) {
	ks, err := b.kickstart(ctx)
	if err != nil {
		return "", err
	}
	b.ks, b.repos = ks, ks.Repos
	return fmt.Sprintf("%d lines, %d repo(s), %d package item(s), %d %%post", len(ks.Lines), len(ks.Repos),
		len(ks.Packages.Include)+len(ks.Packages.Groups), len(ks.Posts)), nil
}

func (b *build) kickstart(ctx context.Context) (*kickstart.Kickstart, error) {
	ref, text := b.req.Kickstart()
	ks, err := kickstart.Read(ctx, b.loader(), ref, text)
	if err != nil {
		return nil, err
	}
	for _, ig := range ks.Ignored {
		b.log.Printf("kickstart: ignored %s", ig)
	}
	if ks.RootSize > 0 {
		b.log.Printf("kickstart: part / --size=%d: the squashfs root takes the size of its contents", ks.RootSize)
	}
	return ks, nil
}

// loader fetches the kickstart and its %includes: paths relative to the
// request, and URLs.
func (b *build) loader() kickstart.Loader {
	if b.opts.Loader != nil {
		return b.opts.Loader
	}
	// A service build reads no file of the server's: a %include of a
	// path would put the server's files into the staged kickstart.
	return &kickstart.FileLoader{Dir: b.req.Dir, NoLocal: b.opts.Service}
}

// writeKickstart writes the flattened kickstart with a repo line for the
// Koji builds' repo, if any, as the 2012 service added one.
func (b *build) writeKickstart(context.Context) (string, error) {
	lines := b.ks.Lines
	if b.side != nil {
		r := b.side.repo
		lines = append(lines, kickstart.Line{Text: fmt.Sprintf("repo --name=%s --baseurl=%s --cost=%d", r.Name, r.BaseURL, r.Cost)})
	}
	name := b.req.Label() + ".ks"
	b.ksPath = filepath.Join(b.work, name)
	return "", beneath.WriteFile(b.work, name, []byte(kickstart.Text(lines)), 0o644)
}
