package bootcheck

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"fbs/internal/hosttool"
)

// probeCode is probe.asm assembled (nasm -f bin), without the zero padding
// and the boot signature that bootSector adds; TestProbeMatchesSource
// assembles the source again and compares.
const probeCode = "fa31c08ed8be3c7ce8250066b9002d3101664975fcbb0001be4f7ce812004b75" +
	"f7be8d7ce80900baf40030c0eef4ebfdbaf803ac84c07403eeebf8c36662732d" +
	"70726f62653a2073746172740d0a006662732d70726f62653a202e2e2e2e2e2e" +
	"2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e" +
	"2e2e2e2e2e2e2e2e2e2e0d0a006662732d70726f62653a20646f6e650d0a"

const probeDone = "fbs-probe: done"

// bootSector is the probe guest: one 512-byte floppy sector.
func bootSector() []byte {
	code, err := hex.DecodeString(probeCode)
	if err != nil {
		panic(err) // a constant
	}
	s := make([]byte, 512)
	copy(s, code)
	s[510], s[511] = 0x55, 0xaa
	return s
}

// probeArgs boots the probe sector from a floppy; isa-debug-exit lets the
// guest end QEMU itself.
func probeArgs(accel, image string) []string {
	return []string{hosttool.Path("qemu-system-x86_64"), "-machine", "pc", "-accel", accel, "-m", "16",
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-net", "none", "-no-reboot",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-drive", "file=" + image + ",format=raw,if=floppy,readonly=on", "-boot", "a"}
}

type probeTimeout struct{ limit time.Duration }

func (p *probeTimeout) Error() string { return fmt.Sprintf("no %q after %s", probeDone, p.limit) }

// probe runs the probe guest under accel and returns how long it took to
// print its last line, QEMU's start included.
func probe(parent context.Context, accel string, limit time.Duration) (time.Duration, error) {
	img, err := os.CreateTemp("", "fbs-probe-*.img")
	if err != nil {
		return 0, err
	}
	defer os.Remove(img.Name())
	if _, err := img.Write(bootSector()); err != nil {
		img.Close()
		return 0, err
	}
	if err := img.Close(); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	args := probeArgs(accel, img.Name())
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var took time.Duration
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), probeDone) {
			took = time.Since(start)
			cancel()
		}
	}
	cmd.Wait()
	switch {
	case took > 0:
		return took, nil
	case parent.Err() != nil:
		return 0, parent.Err()
	case ctx.Err() != nil:
		return 0, &probeTimeout{limit}
	}
	return 0, fmt.Errorf("QEMU exited without %q: %s", probeDone, strings.TrimSpace(stderr.String()))
}
