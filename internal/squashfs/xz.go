package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzDecode decodes the first block of an xz stream, as mksquashfs writes
// one per metadata block: LZMA2, after the x86 BCJ filter when that made
// the block smaller (-Xbcj x86), which github.com/ulikunitz/xz does not
// read. The check is not verified: squashfs has none of its own either.
func xzDecode(src []byte, limit int) ([]byte, error) {
	if len(src) < 13 || !bytes.Equal(src[:6], []byte("\xfd7zXZ\x00")) {
		return nil, errors.New("xz: no stream header")
	}
	h := src[12:]
	size := (int(h[0]) + 1) * 4
	if h[0] == 0 || len(h) < size {
		return nil, errors.New("xz: no block")
	}
	flags := h[1]
	p := h[2:size]
	varint := func() (uint64, error) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errors.New("xz: bad block header")
		}
		p = p[n:]
		return v, nil
	}
	for _, present := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&present != 0 {
			if _, err := varint(); err != nil {
				return nil, err
			}
		}
	}
	var bcj bool
	var dict int
	for range int(flags&3) + 1 {
		id, err := varint()
		if err != nil {
			return nil, err
		}
		n, err := varint()
		if err != nil || uint64(len(p)) < n {
			return nil, errors.New("xz: bad filter flags")
		}
		props := p[:n]
		p = p[n:]
		switch {
		case id == 0x04 && n == 0:
			bcj = true
		case id == 0x21 && n == 1 && props[0] <= 40:
			dict = lzma2Dict(props[0])
		default:
			return nil, fmt.Errorf("xz: filter %#x (%d bytes of properties) is not supported", id, n)
		}
	}
	if dict == 0 {
		return nil, errors.New("xz: no LZMA2 filter")
	}
	// No match reaches further back than the bytes decoded, at most
	// limit: a damaged header's 4 GiB dictionary is not allocated.
	r, err := lzma.Reader2Config{DictCap: max(min(dict, limit), lzma.MinDictCap)}.NewReader2(bytes.NewReader(h[size:]))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("xz: more than %d bytes", limit)
	}
	if bcj {
		bcjX86(out)
	}
	return out, nil
}

func lzma2Dict(p byte) int {
	if p == 40 {
		return 0xffffffff
	}
	return (2 | int(p&1)) << (p/2 + 11)
}

// bcjX86 undoes the x86 BCJ filter in place, for a buffer that starts at
// position 0 (XZ Embedded's bcj_x86).
func bcjX86(buf []byte) {
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNum := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	msByte := func(b byte) bool { return b == 0 || b == 0xff }
	if len(buf) <= 4 {
		return
	}
	size := len(buf) - 4
	prevPos := -1
	var prevMask uint32
	for i := 0; i < size; i++ {
		if buf[i]&0xfe != 0xe8 {
			continue
		}
		d := i - prevPos
		if d > 3 {
			prevMask = 0
		} else {
			prevMask = (prevMask << (d - 1)) & 7
			if prevMask != 0 {
				b := buf[i+4-int(bitNum[prevMask])]
				if !allowed[prevMask] || msByte(b) {
					prevPos = i
					prevMask = prevMask<<1 | 1
					continue
				}
			}
		}
		prevPos = i
		if !msByte(buf[i+4]) {
			prevMask = prevMask<<1 | 1
			continue
		}
		src := binary.LittleEndian.Uint32(buf[i+1:])
		var dest uint32
		for {
			dest = src - uint32(i+5)
			if prevMask == 0 {
				break
			}
			j := bitNum[prevMask] * 8
			if !msByte(byte(dest >> (24 - j))) {
				break
			}
			src = dest ^ (1<<(32-j) - 1)
		}
		dest &= 0x01ffffff
		dest |= 0 - (dest & 0x01000000)
		binary.LittleEndian.PutUint32(buf[i+1:], dest)
		i += 4
	}
}
