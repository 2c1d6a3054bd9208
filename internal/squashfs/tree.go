package squashfs

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// node is one name in the tree the writer makes an image of.
type node struct {
	name   string // path in the tree, "" for its root
	st     unix.Stat_t
	target string // a symlink's
	xattr  uint32 // index of its xattr set, or noXattr
	kids   []*node
	// inode is the node that holds the inode: the first name of a
	// hard-linked file, else the node itself.
	inode *node
	nlink uint32
	num   uint32
	ref   uint64
	data  Data
	done  bool // its inode is written
}

func (n *node) kind() uint32 { return n.st.Mode & unix.S_IFMT }

// xattrPrefixes are the namespaces squashfs stores, by their type ids;
// mksquashfs leaves out the others (system.*) too.
var xattrPrefixes = []string{"user.", "trusted.", "security."}

// scanner reads the tree: stat, symlink targets, xattrs, hard links.
type scanner struct {
	ctx    context.Context
	root   string
	links  map[[2]uint64]*node
	sets   map[string]uint32
	xattrs [][]byte // each set as stored, by index
	counts []uint32 // its entries
	sizes  []uint32 // the size listxattr(2) gives for it
	nodes  int
}

func (s *scanner) scan(name string) (*node, error) {
	if s.nodes++; s.nodes%1024 == 0 && s.ctx.Err() != nil {
		return nil, s.ctx.Err()
	}
	p := filepath.Join(s.root, name)
	n := &node{name: name, nlink: 1}
	n.inode = n
	if err := unix.Lstat(p, &n.st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: p, Err: err}
	}
	var err error
	if n.xattr, err = s.readXattrs(p); err != nil {
		return nil, err
	}
	switch n.kind() {
	case unix.S_IFLNK:
		if n.target, err = os.Readlink(p); err != nil {
			return nil, err
		}
	case unix.S_IFDIR:
		entries, err := os.ReadDir(p) // sorted by name, as mksquashfs sorts
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			k, err := s.scan(path.Join(name, e.Name()))
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	}
	if n.st.Nlink > 1 {
		key := [2]uint64{n.st.Dev, n.st.Ino}
		if first, ok := s.links[key]; ok {
			n.inode = first
			first.nlink++
		} else {
			s.links[key] = n
		}
	}
	return n, nil
}

func (s *scanner) readXattrs(p string) (uint32, error) {
	size, err := unix.Llistxattr(p, nil)
	if err != nil || size == 0 {
		if err == unix.ENOTSUP {
			err = nil
		}
		return noXattr, err
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(p, buf); err != nil {
		return noXattr, fmt.Errorf("llistxattr %s: %w", p, err)
	}
	var set []byte
	var count, total uint32
	for _, full := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		typ := -1
		for i, pre := range xattrPrefixes {
			if strings.HasPrefix(full, pre) {
				typ = i
			}
		}
		if typ < 0 {
			continue
		}
		vsize, err := unix.Lgetxattr(p, full, nil)
		if err != nil {
			return noXattr, fmt.Errorf("lgetxattr %s %s: %w", p, full, err)
		}
		val := make([]byte, vsize)
		if vsize, err = unix.Lgetxattr(p, full, val); err != nil {
			return noXattr, fmt.Errorf("lgetxattr %s %s: %w", p, full, err)
		}
		name := full[len(xattrPrefixes[typ]):]
		set = le16(set, uint16(typ))
		set = le16(set, uint16(len(name)))
		set = append(set, name...)
		set = le32(set, uint32(vsize))
		set = append(set, val[:vsize]...)
		count++
		total += uint32(len(full) + 1 + vsize)
	}
	if count == 0 {
		return noXattr, nil
	}
	if i, ok := s.sets[string(set)]; ok {
		return i, nil
	}
	i := uint32(len(s.xattrs))
	s.sets[string(set)] = i
	s.xattrs, s.counts, s.sizes = append(s.xattrs, set), append(s.counts, count), append(s.sizes, total)
	return i, nil
}

func le16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }
func le32(b []byte, v uint32) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
func le64(b []byte, v uint64) []byte { return le32(le32(b, uint32(v)), uint32(v>>32)) }
