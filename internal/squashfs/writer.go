package squashfs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// FileData is where a regular file's data is copied from.
type FileData struct {
	From *Image
	Data Data
}

// Options say how Write makes an image.
type Options struct {
	// Like is the image whose compressor, compressor options and block
	// size the new one takes: every source's.
	Like     *Image
	MkfsTime time.Time
	// Data tells where the data of the regular file at name (a path in
	// the tree, without a leading slash) comes from.
	Data func(name string) (FileData, error)
}

// maxIDs is how many distinct uids and gids an image holds: the
// superblock counts them in 16 bits (mksquashfs: "Out of uids!").
const maxIDs = 1<<16 - 1

// ErrTooManyIDs says a tree has more distinct uids and gids than an image
// holds.
var ErrTooManyIDs = fmt.Errorf("more than %d distinct uids and gids", maxIDs)

// Stats are what Write did.
type Stats struct {
	Inodes int
	Copied int64 // bytes of compressed data and fragment blocks copied
}

type fragKey struct {
	from *Image
	i    uint32
}

type dataKey struct {
	from             *Image
	start, size      uint64
	frag, fragOffset uint32
}

// writer is one image being written.
type writer struct {
	opts    Options
	out     *bufio.Writer
	pos     uint64
	frags   map[fragKey]uint32
	fragv   []Fragment
	copied  map[dataKey]Data
	ids     map[uint32]uint16
	idv     []uint32
	tooMany bool // more ids than maxIDs
	inodes  metaWriter
	dirs    metaWriter
	count   uint32
	stats   Stats
}

// Write makes a squashfs image at out of the tree at root: its names,
// modes, owners, times, xattrs (user, trusted, security), symlinks,
// devices, fifos, sockets and hard links, each regular file's data copied
// from where opts.Data says. No export table is written: the kernel needs
// none to mount an image, only to export it over NFS.
func Write(ctx context.Context, root, out string, opts Options) (Stats, error) {
	like := opts.Like
	s := &scanner{ctx: ctx, root: root, links: map[[2]uint64]*node{}, sets: map[string]uint32{}}
	tree, err := s.scan("")
	if err != nil {
		return Stats{}, err
	}
	if tree.kind() != unix.S_IFDIR {
		return Stats{}, fmt.Errorf("%s is no directory", root)
	}
	f, err := os.Create(out)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	w := &writer{opts: opts, out: bufio.NewWriterSize(f, 1<<20), frags: map[fragKey]uint32{}, copied: map[dataKey]Data{}, ids: map[uint32]uint16{},
		inodes: metaWriter{codec: like.codec}, dirs: metaWriter{codec: like.codec}}
	w.pos = superSize + uint64(len(like.compOpts))
	if _, err := f.Seek(int64(w.pos), io.SeekStart); err != nil {
		return Stats{}, err
	}
	if err := w.writeData(ctx, tree); err != nil {
		return Stats{}, err
	}
	var last uint32
	number(tree, &last)
	tree.num = last + 1
	if err := w.writeDir(tree, tree.num+1); err != nil {
		return Stats{}, err
	}
	if w.tooMany {
		return Stats{}, fmt.Errorf("%s: %w", root, ErrTooManyIDs)
	}
	sb := Superblock{Inodes: w.count, MkfsTime: uint32(opts.MkfsTime.Unix()), BlockSize: like.Super.BlockSize, Fragments: uint32(len(w.fragv)),
		Compression: like.Super.Compression, BlockLog: like.Super.BlockLog, IDs: uint16(len(w.idv)), RootInode: tree.ref, ExportTable: invalidTable}
	// The data and fragments are the sources' as they were stored; the
	// metadata is compressed here, block by block where that helps.
	sb.Flags = like.Super.Flags&(1<<1|1<<3|flagNoFragments|1<<5|flagCompOpts) | flagDuplicates
	if err := w.writeTables(&sb, s); err != nil {
		return Stats{}, err
	}
	if err := w.out.Flush(); err != nil {
		return Stats{}, err
	}
	if _, err := f.WriteAt(append(sb.marshal(), like.compOpts...), 0); err != nil {
		return Stats{}, err
	}
	w.stats.Inodes = int(w.count)
	return w.stats, f.Close()
}

func (w *writer) emit(b []byte) error {
	_, err := w.out.Write(b)
	w.pos += uint64(len(b))
	return err
}

// copyFrom copies n bytes at off in an image to the output.
func (w *writer) copyFrom(ctx context.Context, im *Image, off, n uint64) error {
	got, err := io.Copy(w.out, ctxReader{ctx, io.NewSectionReader(im, int64(off), int64(n))})
	w.pos += uint64(got)
	w.stats.Copied += got
	if err == nil && uint64(got) != n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("copy from %s: %w", im.Path, err)
	}
	return nil
}

// writeData copies each regular file's blocks, and the fragment blocks
// their tails are in, once for each distinct file.
func (w *writer) writeData(ctx context.Context, n *node) error {
	if n.kind() == unix.S_IFDIR {
		for _, k := range n.kids {
			if err := w.writeData(ctx, k); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	if n.kind() != unix.S_IFREG || n.inode != n {
		return nil
	}
	src, err := w.opts.Data(n.name)
	if err != nil {
		return err
	}
	d := src.Data
	if d.Size != uint64(n.st.Size) {
		return fmt.Errorf("%s: %d bytes, its data %d", n.name, n.st.Size, d.Size)
	}
	if src.From.Super.BlockSize != w.opts.Like.Super.BlockSize || src.From.Super.Compression != w.opts.Like.Super.Compression {
		return fmt.Errorf("%s: its data is in %s, an image of other settings", n.name, src.From.Path)
	}
	key := dataKey{src.From, d.Start, d.Size, d.Fragment, d.FragOffset}
	if done, ok := w.copied[key]; ok {
		n.data = done
		return nil
	}
	n.data = d
	n.data.Start = w.pos
	if err := w.copyFrom(ctx, src.From, d.Start, d.stored()); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	if d.HasFragment() {
		fk := fragKey{src.From, d.Fragment}
		i, ok := w.frags[fk]
		if !ok {
			frag, err := src.From.Fragment(d.Fragment)
			if err != nil {
				return err
			}
			i = uint32(len(w.fragv))
			w.frags[fk] = i
			w.fragv = append(w.fragv, Fragment{Start: w.pos, Size: frag.Size})
			if err := w.copyFrom(ctx, src.From, frag.Start, uint64(frag.Size&^blockRaw)); err != nil {
				return fmt.Errorf("%s: fragment: %w", n.name, err)
			}
		}
		n.data.Fragment = i
	}
	w.copied[key] = n.data
	return nil
}

// number gives inodes their numbers as mksquashfs's dir_scan6 does: each
// entry of a directory in order, a subdirectory's entries right after
// it; the root's comes last. (A directory's listing starts a new header
// where its entries' numbers spread too far, so the numbers decide the
// listings' sizes that unsquashfs -lls shows.)
func number(n *node, next *uint32) {
	for _, k := range n.kids {
		if k.inode.num == 0 {
			*next++
			k.inode.num = *next
		}
		if k.kind() == unix.S_IFDIR {
			number(k, next)
		}
	}
}

func (w *writer) id(v uint32) uint16 {
	i, ok := w.ids[v]
	if !ok {
		if len(w.idv) >= maxIDs {
			// Write fails; the index would wrap round meanwhile.
			w.tooMany = true
			return 0
		}
		i = uint16(len(w.idv))
		w.ids[v] = i
		w.idv = append(w.idv, v)
	}
	return i
}

// header is an inode's common part.
func (w *writer) header(n *node, typ uint16) []byte {
	b := le16(nil, typ)
	b = le16(b, uint16(n.st.Mode&07777))
	b = le16(b, w.id(n.st.Uid))
	b = le16(b, w.id(n.st.Gid))
	b = le32(b, uint32(n.st.Mtim.Sec))
	return le32(b, n.num)
}

// typeOf is the basic inode type of a node.
func typeOf(n *node) uint16 {
	return map[uint32]uint16{unix.S_IFDIR: typeDir, unix.S_IFREG: typeFile, unix.S_IFLNK: typeSymlink, unix.S_IFBLK: typeBlock,
		unix.S_IFCHR: typeChar, unix.S_IFIFO: typeFifo, unix.S_IFSOCK: typeSocket}[n.kind()]
}

// writeInode writes a node's inode that is not a directory's, as
// mksquashfs's create_inode does: the extended type only where a field
// needs it.
func (w *writer) writeInode(n *node) error {
	typ := typeOf(n)
	if typ == 0 {
		return fmt.Errorf("%s: file type %#o", n.name, n.kind())
	}
	hasX := n.xattr != noXattr
	var b []byte
	switch typ {
	case typeFile:
		d := n.data
		if n.nlink > 1 || d.Start >= 1<<32 || d.Size >= 1<<32 || d.Sparse != 0 || hasX {
			b = w.header(n, typ+extended)
			b = le64(le64(le64(b, d.Start), d.Size), min(d.Sparse, max(d.Size, 1)-1))
			b = le32(le32(le32(le32(b, n.nlink), d.Fragment), d.FragOffset), n.xattr)
		} else {
			b = w.header(n, typ)
			b = le32(le32(le32(le32(b, uint32(d.Start)), d.Fragment), d.FragOffset), uint32(d.Size))
		}
		for _, s := range d.Blocks {
			b = le32(b, s)
		}
	case typeSymlink:
		if hasX {
			typ += extended
		}
		b = le32(le32(w.header(n, typ), n.nlink), uint32(len(n.target)))
		b = append(b, n.target...)
		if hasX {
			b = le32(b, n.xattr)
		}
	case typeBlock, typeChar:
		major, minor := unix.Major(n.st.Rdev)&0xfff, unix.Minor(n.st.Rdev)&0xfffff
		rdev := major<<8 | minor&0xff | (minor&^0xff)<<12
		if hasX {
			b = le32(le32(le32(w.header(n, typ+extended), n.nlink), rdev), n.xattr)
		} else {
			b = le32(le32(w.header(n, typ), n.nlink), rdev)
		}
	default: // fifo, socket
		if hasX {
			b = le32(le32(w.header(n, typ+extended), n.nlink), n.xattr)
		} else {
			b = le32(w.header(n, typ), n.nlink)
		}
	}
	n.ref = w.inodes.ref()
	w.inodes.write(b)
	w.count++
	n.done = true
	return nil
}

type dirIndex struct {
	index uint32
	name  string
}

// writeDir writes the inodes beneath a directory, its listing, then its
// inode.
func (w *writer) writeDir(n *node, parent uint32) error {
	subdirs := 0
	for _, k := range n.kids {
		if k.kind() == unix.S_IFDIR {
			subdirs++
			if err := w.writeDir(k, n.num); err != nil {
				return err
			}
		} else if !k.inode.done {
			if err := w.writeInode(k.inode); err != nil {
				return err
			}
		}
	}
	listing, index := w.listing(n)
	block, offset := w.dirs.pos()
	first := len(w.dirs.starts)
	w.dirs.write(listing)
	size := uint32(len(listing) + 3)
	hasX := n.xattr != noXattr
	var b []byte
	// mksquashfs's dir_scan6 makes a directory of 257 entries or more, or
	// of 8 KiB of names and entries, an extended one, index or none.
	names := 0
	for _, k := range n.kids {
		names += len(k.base()) + 8
	}
	if len(n.kids) >= 257 || names >= metaSize || len(index) > 0 || hasX || size >= 1<<16 {
		b = w.header(n, typeDir+extended)
		b = le32(le32(le32(le32(b, uint32(subdirs+2)), size), block), parent)
		b = le16(le16(b, uint16(len(index))), offset)
		b = le32(b, n.xattr)
		for _, x := range index {
			b = le32(le32(le32(b, x.index), w.dirs.blockAt(first, int(offset)+int(x.index))), uint32(len(x.name)-1))
			b = append(b, x.name...)
		}
	} else {
		b = w.header(n, typeDir)
		b = le32(le32(b, block), uint32(subdirs+2))
		b = le16(le16(b, uint16(size)), offset)
		b = le32(b, parent)
	}
	n.ref = w.inodes.ref()
	w.inodes.write(b)
	w.count++
	return nil
}

// listing is a directory's entries as stored, with the index mksquashfs's
// add_dir makes for a listing longer than a metadata block.
func (w *writer) listing(n *node) ([]byte, []dirIndex) {
	var buf []byte
	var index []dirIndex
	var hdr, count, indexed int
	var block uint32
	var base uint32
	closeHeader := func() {
		if count > 0 {
			copy(buf[hdr:], le32(le32(le32(nil, uint32(count-1)), block), base))
		}
	}
	for _, k := range n.kids {
		ref, num := k.inode.ref, k.inode.num
		if k.kind() == unix.S_IFDIR {
			ref, num = k.ref, k.num
		}
		delta := int64(num) - int64(base)
		grow := len(buf) + 8 + len(k.base()) - indexed
		if count == 0 || count == 256 || uint32(ref>>16) != block || grow > metaSize || delta > 32767 || delta < -32768 {
			if count > 0 && grow > metaSize {
				index = append(index, dirIndex{uint32(len(buf)), k.base()})
				indexed = len(buf)
			}
			closeHeader()
			hdr, count, block, base = len(buf), 0, uint32(ref>>16), num
			buf = append(buf, make([]byte, 12)...)
			delta = 0
		}
		buf = le16(buf, uint16(ref))
		buf = le16(buf, uint16(int16(delta)))
		buf = le16(buf, typeOf(k))
		buf = le16(buf, uint16(len(k.base())-1))
		buf = append(buf, k.base()...)
		count++
	}
	closeHeader()
	return buf, index
}

func (n *node) base() string {
	for i := len(n.name) - 1; i >= 0; i-- {
		if n.name[i] == '/' {
			return n.name[i+1:]
		}
	}
	return n.name
}

// table writes a metadata table's blocks and then the index of their
// positions, and returns the index's position.
func (w *writer) table(m *metaWriter) (uint64, error) {
	data, err := m.bytes()
	if err != nil {
		return 0, err
	}
	start := w.pos
	if err := w.emit(data); err != nil {
		return 0, err
	}
	at := w.pos
	var idx []byte
	for _, s := range m.starts {
		idx = le64(idx, start+uint64(s))
	}
	return at, w.emit(idx)
}

func (w *writer) writeTables(sb *Superblock, s *scanner) error {
	codec := w.opts.Like.codec
	var err error
	for _, t := range []struct {
		m  *metaWriter
		at *uint64
	}{{&w.inodes, &sb.InodeTable}, {&w.dirs, &sb.DirTable}} {
		data, err := t.m.bytes()
		if err != nil {
			return err
		}
		*t.at = w.pos
		if err := w.emit(data); err != nil {
			return err
		}
	}
	frags := metaWriter{codec: codec}
	for _, f := range w.fragv {
		frags.write(le32(le32(le64(nil, f.Start), f.Size), 0))
	}
	if sb.FragmentTable, err = w.table(&frags); err != nil {
		return err
	}
	ids := metaWriter{codec: codec}
	for _, id := range w.idv {
		ids.write(le32(nil, id))
	}
	if sb.IDTable, err = w.table(&ids); err != nil {
		return err
	}
	sb.XattrIDTable = invalidTable
	if len(s.xattrs) == 0 {
		sb.Flags |= flagNoXattrs
	} else {
		kv, xids := metaWriter{codec: codec}, metaWriter{codec: codec}
		for i, set := range s.xattrs {
			xids.write(le32(le32(le64(nil, kv.ref()), s.counts[i]), s.sizes[i]))
			kv.write(set)
		}
		data, err := kv.bytes()
		if err != nil {
			return err
		}
		kvStart := w.pos
		if err := w.emit(data); err != nil {
			return err
		}
		if data, err = xids.bytes(); err != nil {
			return err
		}
		idStart := w.pos
		if err := w.emit(data); err != nil {
			return err
		}
		sb.XattrIDTable = w.pos
		hdr := le32(le32(le64(nil, kvStart), uint32(len(s.xattrs))), 0)
		for _, st := range xids.starts {
			hdr = le64(hdr, idStart+uint64(st))
		}
		if err := w.emit(hdr); err != nil {
			return err
		}
	}
	sb.BytesUsed = w.pos
	if pad := (4096 - w.pos%4096) % 4096; pad > 0 {
		return w.emit(make([]byte, pad))
	}
	return nil
}
