// Package squashfs reads and writes squashfs 4.0 images far enough for fbs
// to make a root image out of the compressed blocks of earlier ones: the
// reader indexes each regular file's data blocks and fragment in an image
// (mksquashfs's or the writer's), the writer makes an image of a directory
// tree whose files' data is copied, still compressed, from such images, and
// writes the metadata (inodes, directories, fragment, id and xattr tables)
// itself. Data is never compressed here: blocks come from mksquashfs.
package squashfs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	magic         = 0x73717368
	superSize     = 96
	metaSize      = 8192 // uncompressed bytes in a metadata block
	metaRaw       = 0x8000
	blockRaw      = 1 << 24 // a data block or fragment stored uncompressed
	noFragment    = 0xffffffff
	noXattr       = 0xffffffff
	invalidTable  = ^uint64(0)
	fragEntrySize = 16
)

// Superblock flags.
const (
	flagNoFragments = 1 << 4
	flagDuplicates  = 1 << 6
	flagExportable  = 1 << 7
	flagNoXattrs    = 1 << 9
	flagCompOpts    = 1 << 10
)

// Inode types; the extended ones are the basic type + 7.
const (
	typeDir = iota + 1
	typeFile
	typeSymlink
	typeBlock
	typeChar
	typeFifo
	typeSocket
	extended = 7
)

// Superblock is an image's superblock.
type Superblock struct {
	Inodes        uint32
	MkfsTime      uint32
	BlockSize     uint32
	Fragments     uint32
	Compression   uint16
	BlockLog      uint16
	Flags         uint16
	IDs           uint16
	RootInode     uint64
	BytesUsed     uint64
	IDTable       uint64
	XattrIDTable  uint64
	InodeTable    uint64
	DirTable      uint64
	FragmentTable uint64
	ExportTable   uint64
}

func (s *Superblock) unmarshal(b []byte) error {
	if len(b) < superSize || binary.LittleEndian.Uint32(b) != magic {
		return errors.New("not a squashfs image")
	}
	le := binary.LittleEndian
	if major, minor := le.Uint16(b[28:]), le.Uint16(b[30:]); major != 4 || minor != 0 {
		return fmt.Errorf("squashfs %d.%d, not 4.0", major, minor)
	}
	*s = Superblock{
		Inodes: le.Uint32(b[4:]), MkfsTime: le.Uint32(b[8:]), BlockSize: le.Uint32(b[12:]), Fragments: le.Uint32(b[16:]),
		Compression: le.Uint16(b[20:]), BlockLog: le.Uint16(b[22:]), Flags: le.Uint16(b[24:]), IDs: le.Uint16(b[26:]),
		RootInode: le.Uint64(b[32:]), BytesUsed: le.Uint64(b[40:]), IDTable: le.Uint64(b[48:]), XattrIDTable: le.Uint64(b[56:]),
		InodeTable: le.Uint64(b[64:]), DirTable: le.Uint64(b[72:]), FragmentTable: le.Uint64(b[80:]), ExportTable: le.Uint64(b[88:]),
	}
	return nil
}

// check refuses a superblock no mksquashfs writes, in an image of size
// bytes: the reader divides by the block size, and allocates by the
// counts.
func (s *Superblock) check(size uint64) error {
	switch {
	case s.BlockSize < 4<<10 || s.BlockSize > 1<<20 || s.BlockSize&(s.BlockSize-1) != 0 || 1<<s.BlockLog != s.BlockSize:
		return fmt.Errorf("block size %d, log %d", s.BlockSize, s.BlockLog)
	case s.BytesUsed > size:
		return fmt.Errorf("%d bytes used of %d", s.BytesUsed, size)
	case s.InodeTable < superSize || s.InodeTable > s.DirTable || s.DirTable > s.BytesUsed:
		return fmt.Errorf("inode table at %d, directory table at %d", s.InodeTable, s.DirTable)
	// Each fragment block takes a byte of the data area at least.
	case uint64(s.Fragments) > s.InodeTable:
		return fmt.Errorf("%d fragments in %d bytes of data", s.Fragments, s.InodeTable)
	}
	return nil
}

func (s *Superblock) marshal() []byte {
	b := make([]byte, superSize)
	le := binary.LittleEndian
	le.PutUint32(b, magic)
	le.PutUint32(b[4:], s.Inodes)
	le.PutUint32(b[8:], s.MkfsTime)
	le.PutUint32(b[12:], s.BlockSize)
	le.PutUint32(b[16:], s.Fragments)
	le.PutUint16(b[20:], s.Compression)
	le.PutUint16(b[22:], s.BlockLog)
	le.PutUint16(b[24:], s.Flags)
	le.PutUint16(b[26:], s.IDs)
	le.PutUint16(b[28:], 4)
	le.PutUint16(b[30:], 0)
	for i, v := range []uint64{s.RootInode, s.BytesUsed, s.IDTable, s.XattrIDTable, s.InodeTable, s.DirTable, s.FragmentTable, s.ExportTable} {
		le.PutUint64(b[32+8*i:], v)
	}
	return b
}

// Data is where a regular file's data lies in an image.
type Data struct {
	Size   uint64   `json:"size"`
	Start  uint64   `json:"start"`            // the first block's position
	Blocks []uint32 `json:"blocks,omitempty"` // stored sizes; blockRaw set when uncompressed, 0 for a sparse block
	Sparse uint64   `json:"sparse,omitempty"`
	// Fragment is the index of the fragment block holding the file's
	// tail (noFragment for none), at FragOffset in it.
	Fragment   uint32 `json:"fragment"`
	FragOffset uint32 `json:"frag_offset,omitempty"`
}

// HasFragment says whether the file's tail lies in a fragment block.
func (d Data) HasFragment() bool { return d.Fragment != noFragment }

// stored is the bytes the file's blocks take in the image.
func (d Data) stored() uint64 {
	var n uint64
	for _, b := range d.Blocks {
		n += uint64(b &^ blockRaw)
	}
	return n
}

// key is the whole of where the data lies, to find a file's index entry.
func (d Data) key() string {
	return fmt.Sprint(d.Size, d.Start, d.Sparse, d.Fragment, d.FragOffset, d.Blocks)
}

// Fragment is a fragment block's place in its image.
type Fragment struct {
	Start uint64
	Size  uint32 // blockRaw set when uncompressed
}
