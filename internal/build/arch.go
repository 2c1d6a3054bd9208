package build

import (
	"fmt"

	"fbs/internal/hostarch"
	"fbs/internal/image"
	"fbs/internal/spec"
)

// nativePlatform is how arch's media boot, if this host can build them:
// everything in the image root (rpm's scriptlets, %post, dracut) runs as
// the image's own programs, natively or through qemu-user's binfmt_misc
// entry, so a host that cannot run them is refused before any download.
func nativePlatform(arch string) (image.Platform, error) {
	p, err := image.PlatformOf(arch)
	if err != nil {
		return p, &spec.Error{Key: "arch", Msg: err.Error()}
	}
	if err := hostarch.Check(arch); err != nil {
		return p, &spec.Error{Key: "arch", Msg: fmt.Sprintf("this host cannot build %s media: %v", arch, err)}
	}
	return p, nil
}
