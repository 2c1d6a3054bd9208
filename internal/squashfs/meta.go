package squashfs

import "encoding/binary"

// metaWriter writes a metadata table: 8 KiB blocks, each compressed
// unless that would not make it smaller, behind a 2-byte header.
type metaWriter struct {
	codec  codec
	out    []byte
	cur    []byte
	starts []uint32 // each written block's position in out
	err    error
}

// pos is where the next byte written lands: its block's position in the
// table and the offset in that block.
func (m *metaWriter) pos() (uint32, uint16) { return uint32(len(m.out)), uint16(len(m.cur)) }

// ref is pos as an inode or xattr reference.
func (m *metaWriter) ref() uint64 {
	b, o := m.pos()
	return uint64(b)<<16 | uint64(o)
}

func (m *metaWriter) write(b []byte) {
	for len(b) > 0 {
		n := min(len(b), metaSize-len(m.cur))
		m.cur = append(m.cur, b[:n]...)
		b = b[n:]
		if len(m.cur) == metaSize {
			m.flush()
		}
	}
}

func (m *metaWriter) flush() {
	if len(m.cur) == 0 {
		return
	}
	m.starts = append(m.starts, uint32(len(m.out)))
	hdr := uint16(len(m.cur)) | metaRaw
	data := m.cur
	if c, err := m.codec.encode(m.cur); err != nil {
		m.err = err
	} else if len(c) < len(m.cur) {
		hdr, data = uint16(len(c)), c
	}
	m.out = binary.LittleEndian.AppendUint16(m.out, hdr)
	m.out = append(m.out, data...)
	m.cur = m.cur[:0]
}

// blockAt is the table position of the block that holds the byte at
// offset off past the block that started at index first of starts (or
// that is being filled, when first is len(starts)).
func (m *metaWriter) blockAt(first, off int) uint32 {
	if k := first + off/metaSize; k < len(m.starts) {
		return m.starts[k]
	}
	return uint32(len(m.out))
}

// bytes flushes the table and returns it.
func (m *metaWriter) bytes() ([]byte, error) {
	m.flush()
	return m.out, m.err
}
