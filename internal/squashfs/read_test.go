package squashfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// content is a file's data decompressed from the image, for tests.
func (im *Image) content(d Data) ([]byte, error) {
	var out bytes.Buffer
	pos := d.Start
	for _, b := range d.Blocks {
		size := b &^ blockRaw
		if size == 0 {
			out.Write(make([]byte, min(uint64(im.Super.BlockSize), d.Size-uint64(out.Len()))))
			continue
		}
		raw := make([]byte, size)
		if _, err := im.ReadAt(raw, int64(pos)); err != nil {
			return nil, err
		}
		pos += uint64(size)
		if b&blockRaw == 0 {
			var err error
			if raw, err = im.codec.decode(raw, int(im.Super.BlockSize)); err != nil {
				return nil, fmt.Errorf("block at %d: %w", pos-uint64(size), err)
			}
		}
		out.Write(raw)
	}
	if d.HasFragment() {
		f, err := im.Fragment(d.Fragment)
		if err != nil {
			return nil, err
		}
		raw := make([]byte, f.Size&^blockRaw)
		if _, err := im.ReadAt(raw, int64(f.Start)); err != nil {
			return nil, err
		}
		if f.Size&blockRaw == 0 {
			if raw, err = im.codec.decode(raw, int(im.Super.BlockSize)); err != nil {
				return nil, err
			}
		}
		tail := d.Size - uint64(out.Len())
		if uint64(d.FragOffset)+tail > uint64(len(raw)) {
			return nil, io.ErrUnexpectedEOF
		}
		out.Write(raw[d.FragOffset : uint64(d.FragOffset)+tail])
	}
	return out.Bytes(), nil
}

// inodes is each path's inode type (basic or extended) and number, one a
// line, for tests.
func (im *Image) inodeList() (string, error) {
	var b bytes.Buffer
	err := im.walkDir(im.Super.RootInode, "", 0, map[uint64]bool{}, func(name string, ref uint64, _ uint16) error {
		in, err := im.inodes.slice(ref)
		if err != nil || len(in) < 16 {
			return fmt.Errorf("%s: inode: %v", name, err)
		}
		fmt.Fprintf(&b, "%s type %d number %d\n", name, binary.LittleEndian.Uint16(in), binary.LittleEndian.Uint32(in[12:]))
		return nil
	})
	return b.String(), err
}

// Files is every regular file's data by path, for tests.
func (im *Image) Files() (map[string]Data, error) {
	files := map[string]Data{}
	err := im.Walk(func(name string, d Data) error {
		files[name] = d
		return nil
	})
	return files, err
}

// fragmentBlock is fragment block i decompressed, for tests.
func (im *Image) fragmentBlock(i uint32) ([]byte, error) {
	f, err := im.Fragment(i)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, f.Size&^blockRaw)
	if _, err := im.ReadAt(raw, int64(f.Start)); err != nil {
		return nil, err
	}
	if f.Size&blockRaw != 0 {
		return raw, nil
	}
	return im.codec.decode(raw, int(im.Super.BlockSize))
}
