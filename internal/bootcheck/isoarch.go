package bootcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// efiLoaders are the removable-media loaders that say an ISO's arch.
var efiLoaders = map[string]string{"BOOTX64.EFI": "x86_64", "BOOTAA64.EFI": "aarch64"}

// ISOArch is the arch of an ISO's UEFI loader (EFI/BOOT/BOOTAA64.EFI:
// aarch64, BOOTX64.EFI: x86_64), read from its ISO 9660 directory tree;
// "" when it has neither (BIOS-only media).
func ISOArch(iso string) (string, error) {
	f, err := os.Open(iso)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := isoReader{f}
	// The primary volume descriptor is sector 16; its root directory
	// record is at byte 156.
	pvd, err := r.sector(16, 1)
	if err != nil {
		return "", fmt.Errorf("%s: %w", iso, err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return "", fmt.Errorf("%s: not an ISO 9660 image", iso)
	}
	dir := record(pvd[156:])
	for _, name := range []string{"EFI", "BOOT"} {
		entries, err := r.dir(dir)
		if err != nil {
			return "", fmt.Errorf("%s: %w", iso, err)
		}
		var ok bool
		if dir, ok = entries[name]; !ok || !dir.isDir() {
			return "", nil
		}
	}
	entries, err := r.dir(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", iso, err)
	}
	for name := range entries {
		if arch, ok := efiLoaders[name]; ok {
			return arch, nil
		}
	}
	return "", nil
}

// record is an ISO 9660 directory record.
type record []byte

func (d record) extent() int64 { return int64(binary.LittleEndian.Uint32(d[2:6])) }
func (d record) size() int64   { return int64(binary.LittleEndian.Uint32(d[10:14])) }
func (d record) isDir() bool   { return d[25]&2 != 0 }

// name is the record's name as the primary volume descriptor has it,
// without its version (";1"), in upper case.
func (d record) name() string {
	n := string(d[33 : 33+int(d[32])])
	n, _, _ = strings.Cut(n, ";")
	return strings.ToUpper(strings.TrimSuffix(n, "."))
}

type isoReader struct{ r io.ReaderAt }

func (r isoReader) sector(n, count int64) ([]byte, error) {
	b := make([]byte, count*2048)
	if _, err := r.r.ReadAt(b, n*2048); err != nil {
		return nil, err
	}
	return b, nil
}

// dir reads a directory's records by name. A record does not cross a
// sector: the rest of a sector after a zero length byte is padding.
func (r isoReader) dir(d record) (map[string]record, error) {
	if d.size() > 1<<20 {
		return nil, errors.New("a directory larger than 1 MiB")
	}
	b, err := r.sector(d.extent(), (d.size()+2047)/2048)
	if err != nil {
		return nil, err
	}
	out := map[string]record{}
	for off := 0; off < len(b); {
		n := int(b[off])
		if n == 0 {
			off = (off/2048 + 1) * 2048
			continue
		}
		if n < 34 || off+n > len(b) || 33+int(b[off+32]) > n {
			return nil, errors.New("a malformed directory record")
		}
		rec := record(b[off : off+n])
		out[rec.name()] = rec
		off += n
	}
	return out, nil
}
