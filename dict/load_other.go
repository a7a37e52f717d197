//go:build !amd64

package dict

import (
	"encoding/binary"
	"sync/atomic"
)

// Where plain loads may be reordered after a later load-acquire (arm64 and
// other weakly ordered machines), a reader copies keys and values with
// 8-byte atomic loads, which stay ordered before its re-check of the
// sequence word.

// keyEqual compares key with the key of the cell at word cw.
func (t *table) keyEqual(cw int, key string) bool {
	kw := t.w[cw+cellHdrW : cw+cellHdrW+t.keyWords]
	i := 0
	for ; len(key)-i >= 8; i += 8 {
		if atomic.LoadUint64(&kw[i/8]) != le64(key[i:i+8]) {
			return false
		}
	}
	if i < len(key) {
		var b [8]byte
		copy(b[:], key[i:])
		return atomic.LoadUint64(&kw[i/8]) == binary.LittleEndian.Uint64(b[:])
	}
	return true
}

// loadBytes appends n bytes from the words at w0 to dst[:0].
func (t *table) loadBytes(dst []byte, w0 int, n int) []byte {
	ws := t.w[w0 : w0+wordsFor(n)]
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	i := 0
	for ; n-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], atomic.LoadUint64(&ws[i/8]))
	}
	if i < n {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], atomic.LoadUint64(&ws[i/8]))
		copy(dst[i:], b[:])
	}
	return dst
}
