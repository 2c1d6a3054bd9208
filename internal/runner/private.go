package runner

import (
	"fmt"
	"os"
)

// PrivateDir makes dir, and any parent it lacks, for root alone (0700),
// and makes an existing one so. What a build leaves in its work dir or its
// caches (a setuid shell planted by a %post, the image roots' own setuid
// binaries) must not be reachable by the host's other users, and what the
// service keeps (requests, kickstarts with proxy passwords, logs) must not
// be readable by them.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make %s private: %w", dir, err)
	}
	return nil
}
