package squashfs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compressor ids in the superblock.
const (
	compGzip = 1
	compXZ   = 4
	compZstd = 6
)

var compNames = map[uint16]string{1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}

// codec compresses and decompresses metadata blocks; the data blocks
// are copied as they are.
type codec interface {
	decode(src []byte, limit int) ([]byte, error)
	// encode may return more bytes than it was given; the block is then
	// stored uncompressed.
	encode(src []byte) ([]byte, error)
}

// Supported says whether the reader and writer handle images of the
// mksquashfs compressor name (gzip, xz, zstd).
func Supported(name string) bool {
	for id, n := range compNames {
		if n == name {
			_, err := newCodec(id, nil)
			return err == nil
		}
	}
	return false
}

func newCodec(id uint16, opts []byte) (codec, error) {
	switch id {
	case compGzip:
		return gzipCodec{}, nil
	case compXZ:
		return xzCodec{}, nil
	case compZstd:
		level := 15 // mksquashfs's default
		if len(opts) >= 4 {
			level = int(binary.LittleEndian.Uint32(opts))
		}
		// No content checksum, as libzstd's default that mksquashfs takes:
		// the kernel's zstd_wrapper fails a full 8 KiB block whose
		// checksum lies on the next page, output full and the frame not
		// yet done ("zstd decompression failed, data probably corrupt").
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(1),
			zstd.WithSingleSegment(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, err
		}
		// A block is at most 1 MiB; a damaged frame's window is not allocated.
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<26))
		if err != nil {
			return nil, err
		}
		return zstdCodec{enc, dec}, nil
	}
	return nil, fmt.Errorf("squashfs: compressor %s is not supported", compNames[id])
}

// gzipCodec is mksquashfs's gzip: zlib streams.
type gzipCodec struct{}

func (gzipCodec) decode(src []byte, limit int) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, int64(limit)))
}

func (gzipCodec) encode(src []byte) ([]byte, error) {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(src)
	err := w.Close()
	return b.Bytes(), err
}

type xzCodec struct{}

func (xzCodec) decode(src []byte, limit int) ([]byte, error) { return xzDecode(src, limit) }

// encode writes LZMA2 alone with a CRC32 check: the kernel's xz_dec knows
// no CRC64 and allocates the dictionary the image's options say, at least
// the metadata block's size here.
func (xzCodec) encode(src []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := xz.WriterConfig{DictCap: metaSize, CheckSum: xz.CRC32}.NewWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(src); err != nil {
		return nil, err
	}
	err = w.Close()
	return b.Bytes(), err
}

type zstdCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func (z zstdCodec) decode(src []byte, limit int) ([]byte, error) {
	out, err := z.dec.DecodeAll(src, make([]byte, 0, limit))
	if err == nil && len(out) > limit {
		err = fmt.Errorf("zstd: %d bytes, more than %d", len(out), limit)
	}
	return out, err
}

func (z zstdCodec) encode(src []byte) ([]byte, error) { return z.enc.EncodeAll(src, nil), nil }
