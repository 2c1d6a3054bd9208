package squashfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// Image is a squashfs image open for reading.
type Image struct {
	Path  string
	Super Superblock
	// compOpts is the compressor options' metadata block as stored
	// (header included), which the writer copies.
	compOpts []byte
	f        *os.File
	codec    codec
	frags    []Fragment
	inodes   table
	dirs     table
}

// table is a metadata table decompressed whole.
type table struct {
	data []byte
	at   map[uint32]int // a block's position in the table -> its bytes' offset in data
}

// Open reads an image's superblock and its inode, directory and fragment
// tables.
func Open(name string) (*Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	im := &Image{Path: name, f: f}
	if err := im.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("squashfs %s: %w", name, err)
	}
	return im, nil
}

// Close closes the image's file.
func (im *Image) Close() error { return im.f.Close() }

func (im *Image) load() error {
	b := make([]byte, superSize)
	if _, err := im.f.ReadAt(b, 0); err != nil {
		return err
	}
	if err := im.Super.unmarshal(b); err != nil {
		return err
	}
	fi, err := im.f.Stat()
	if err != nil {
		return err
	}
	if err := im.Super.check(uint64(fi.Size())); err != nil {
		return fmt.Errorf("superblock: %w", err)
	}
	sb := &im.Super
	var opts []byte
	if sb.Flags&flagCompOpts != 0 {
		raw, data, _, err := im.readBlockRaw(superSize)
		if err != nil {
			return fmt.Errorf("compressor options: %w", err)
		}
		im.compOpts, opts = raw, data
	}
	c, err := newCodec(sb.Compression, opts)
	if err != nil {
		return err
	}
	im.codec = c
	if err := im.loadFragments(); err != nil {
		return fmt.Errorf("fragment table: %w", err)
	}
	if im.inodes, err = im.readTable(sb.InodeTable, sb.DirTable); err != nil {
		return fmt.Errorf("inode table: %w", err)
	}
	if im.dirs, err = im.readTable(sb.DirTable, im.dirTableEnd()); err != nil {
		return fmt.Errorf("directory table: %w", err)
	}
	return nil
}

// dirTableEnd is where the next table after the directory table begins:
// the first metadata block of whichever table is nearest after it.
func (im *Image) dirTableEnd() uint64 {
	sb := &im.Super
	end := sb.BytesUsed
	consider := func(p uint64) {
		if p > sb.DirTable && p < end {
			end = p
		}
	}
	for _, t := range []uint64{sb.FragmentTable, sb.ExportTable, sb.IDTable, sb.XattrIDTable} {
		if t == invalidTable {
			continue
		}
		consider(t)
		if first, err := im.u64(t); err == nil {
			consider(first)
		}
	}
	return end
}

func (im *Image) u64(at uint64) (uint64, error) {
	var b [8]byte
	if _, err := im.f.ReadAt(b[:], int64(at)); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readBlockRaw reads the metadata block at pos: as stored, its content,
// and the position after it.
func (im *Image) readBlockRaw(pos uint64) (raw, data []byte, next uint64, err error) {
	var h [2]byte
	if _, err := im.f.ReadAt(h[:], int64(pos)); err != nil {
		return nil, nil, 0, err
	}
	hdr := binary.LittleEndian.Uint16(h[:])
	size := int(hdr &^ metaRaw)
	if size == 0 {
		size = metaRaw
	}
	raw = make([]byte, 2+size)
	if _, err := im.f.ReadAt(raw, int64(pos)); err != nil {
		return nil, nil, 0, err
	}
	data = raw[2:]
	if hdr&metaRaw == 0 {
		if im.codec == nil {
			return nil, nil, 0, errors.New("compressed compressor options")
		}
		if data, err = im.codec.decode(data, metaSize); err != nil {
			return nil, nil, 0, fmt.Errorf("metadata block at %d: %w", pos, err)
		}
	}
	return raw, data, pos + uint64(len(raw)), nil
}

// maxMetaRatio bounds a metadata table's size by its stored size:
// mksquashfs's compress a few times, a damaged image's as much as the
// compressor can.
const maxMetaRatio = 256

func (im *Image) readTable(start, end uint64) (table, error) {
	t := table{at: map[uint32]int{}}
	for pos := start; pos < end; {
		if uint64(len(t.data)) > maxMetaRatio*(end-start)+metaSize {
			return t, fmt.Errorf("%d bytes stored hold over %d bytes", end-start, len(t.data))
		}
		_, data, next, err := im.readBlockRaw(pos)
		if err != nil {
			return t, err
		}
		t.at[uint32(pos-start)] = len(t.data)
		t.data = append(t.data, data...)
		pos = next
	}
	return t, nil
}

// slice is the table's bytes from (block, offset) on.
func (t table) slice(ref uint64) ([]byte, error) {
	at, ok := t.at[uint32(ref>>16)]
	if !ok || at+int(ref&0xffff) > len(t.data) {
		return nil, fmt.Errorf("no metadata block at %d", ref>>16)
	}
	return t.data[at+int(ref&0xffff):], nil
}

func (im *Image) loadFragments() error {
	n := int(im.Super.Fragments)
	if n == 0 {
		return nil
	}
	if blocks := (n*fragEntrySize + metaSize - 1) / metaSize; im.Super.FragmentTable+uint64(8*blocks) > im.Super.BytesUsed {
		return fmt.Errorf("%d fragments' index does not fit in the image", n)
	}
	for i := 0; len(im.frags) < n; i++ {
		pos, err := im.u64(im.Super.FragmentTable + uint64(8*i))
		if err != nil {
			return err
		}
		_, data, _, err := im.readBlockRaw(pos)
		if err != nil {
			return err
		}
		for ; len(data) >= fragEntrySize && len(im.frags) < n; data = data[fragEntrySize:] {
			im.frags = append(im.frags, Fragment{binary.LittleEndian.Uint64(data), binary.LittleEndian.Uint32(data[8:])})
		}
	}
	return nil
}

// Fragment is the place of fragment block i.
func (im *Image) Fragment(i uint32) (Fragment, error) {
	if int(i) >= len(im.frags) {
		return Fragment{}, fmt.Errorf("squashfs %s: no fragment %d", im.Path, i)
	}
	return im.frags[i], nil
}

// ReadAt reads the image's bytes.
func (im *Image) ReadAt(p []byte, off int64) (int, error) { return im.f.ReadAt(p, off) }

// Walk calls fn for each regular file in the image with its path (no
// leading slash) and where its data lies; a hard-linked file once per name.
func (im *Image) Walk(fn func(name string, d Data) error) error {
	return im.walkDir(im.Super.RootInode, "", 0, map[uint64]bool{}, func(name string, ref uint64, typ uint16) error {
		if typ != typeFile {
			return nil
		}
		d, err := im.fileData(ref)
		if err != nil {
			return err
		}
		return fn(name, d)
	})
}

// maxDepth is the deepest a path of PATH_MAX (4096) bytes nests.
const maxDepth = 2048

// walkDir calls visit for each entry beneath a directory, with its inode
// reference and its type as the directory says it (a basic one).
// seen are the directories walked so far: a damaged image may list one
// within itself.
func (im *Image) walkDir(ref uint64, dir string, depth int, seen map[uint64]bool, visit func(name string, ref uint64, typ uint16) error) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: directories nested over %d deep", dir, maxDepth)
	}
	if seen[ref] {
		return fmt.Errorf("%s: a directory within itself", dir)
	}
	seen[ref] = true
	b, err := im.inodes.slice(ref)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	var size uint32
	var listing uint64
	switch {
	case len(b) < 32:
		return io.ErrUnexpectedEOF
	case le.Uint16(b) == typeDir:
		listing, size = uint64(le.Uint32(b[16:]))<<16|uint64(le.Uint16(b[26:])), uint32(le.Uint16(b[24:]))
	case le.Uint16(b) == typeDir+extended && len(b) >= 40:
		listing, size = uint64(le.Uint32(b[24:]))<<16|uint64(le.Uint16(b[34:])), le.Uint32(b[20:])
	default:
		return fmt.Errorf("%s: not a directory", dir)
	}
	l, err := im.dirs.slice(listing)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if size < 3 || int(size-3) > len(l) {
		return fmt.Errorf("%s: listing of %d bytes", dir, size)
	}
	for l = l[:size-3]; len(l) >= 12; {
		count, block := int(le.Uint32(l))+1, uint64(le.Uint32(l[4:]))
		l = l[12:]
		for range count {
			if len(l) < 8 || len(l) < 8+int(le.Uint16(l[6:]))+1 {
				return fmt.Errorf("%s: short listing", dir)
			}
			n := 8 + int(le.Uint16(l[6:])) + 1
			name := path.Join(dir, string(l[8:n]))
			child, typ := block<<16|uint64(le.Uint16(l)), le.Uint16(l[4:])
			l = l[n:]
			if err := visit(name, child, typ); err != nil {
				return err
			}
			if typ == typeDir {
				if err := im.walkDir(child, name, depth+1, seen, visit); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// inDataArea checks that a file's blocks and its fragment block lie
// between the superblock and the inode table, where mksquashfs writes
// data: the writer copies the bytes Data names.
func (im *Image) inDataArea(d Data) error {
	lo, hi, bs := superSize+uint64(len(im.compOpts)), im.Super.InodeTable, uint64(im.Super.BlockSize)
	inside := func(start, size uint64) bool { return size == 0 || start >= lo && start <= hi && size <= hi-start }
	for _, b := range d.Blocks {
		if uint64(b&^blockRaw) > bs {
			return fmt.Errorf("a block of %d bytes", b&^blockRaw)
		}
	}
	if !inside(d.Start, d.stored()) {
		return fmt.Errorf("blocks at %d, %d bytes, outside the data area %d-%d", d.Start, d.stored(), lo, hi)
	}
	if !d.HasFragment() {
		return nil
	}
	f, err := im.Fragment(d.Fragment)
	if err != nil {
		return err
	}
	size := uint64(f.Size &^ blockRaw)
	if size > bs || !inside(f.Start, size) {
		return fmt.Errorf("fragment block %d at %d, %d bytes, outside the data area %d-%d", d.Fragment, f.Start, size, lo, hi)
	}
	if uint64(d.FragOffset)+d.Size%bs > bs {
		return fmt.Errorf("a tail at %d of fragment block %d", d.FragOffset, d.Fragment)
	}
	return nil
}

func (im *Image) fileData(ref uint64) (Data, error) {
	b, err := im.inodes.slice(ref)
	if err != nil {
		return Data{}, err
	}
	le := binary.LittleEndian
	var d Data
	var list []byte
	switch t := le.Uint16(b); {
	case t == typeFile && len(b) >= 32:
		d = Data{Start: uint64(le.Uint32(b[16:])), Fragment: le.Uint32(b[20:]), FragOffset: le.Uint32(b[24:]), Size: uint64(le.Uint32(b[28:]))}
		list = b[32:]
	case t == typeFile+extended && len(b) >= 56:
		d = Data{Start: le.Uint64(b[16:]), Size: le.Uint64(b[24:]), Sparse: le.Uint64(b[32:]), Fragment: le.Uint32(b[44:]), FragOffset: le.Uint32(b[48:])}
		list = b[56:]
	default:
		return d, fmt.Errorf("inode %d: not a regular file", ref)
	}
	bs := uint64(im.Super.BlockSize)
	n := d.Size / bs
	if !d.HasFragment() && d.Size%bs != 0 {
		n++
	}
	if uint64(len(list)) < 4*n {
		return d, fmt.Errorf("inode %d: short block list", ref)
	}
	d.Blocks = make([]uint32, n)
	for i := range d.Blocks {
		d.Blocks[i] = le.Uint32(list[4*i:])
	}
	return d, nil
}
