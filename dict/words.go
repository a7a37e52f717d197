package dict

import (
	"encoding/binary"
	"sync/atomic"
)

// The readers' copies by 8-byte atomic loads, used where plain loads may
// pass a later load-acquire (load_other.go) and compared with the amd64
// byte copies by TestWordCopies.

// keyEqualWords compares key with the key of the cell at word cw.
func (t *table) keyEqualWords(cw int, key string) bool {
	kw := t.w[cw+cellHdrW : cw+cellHdrW+t.keyWords]
	var b [8]byte
	for i := 0; i < len(key); i += 8 {
		n := copy(b[:], key[i:])
		clear(b[n:])
		if atomic.LoadUint64(&kw[i/8]) != binary.LittleEndian.Uint64(b[:]) {
			return false
		}
	}
	return true
}

// loadBytesWords appends n bytes from the words at w0 to dst[:0].
func (t *table) loadBytesWords(dst []byte, w0 int, n int) []byte {
	ws := t.w[w0 : w0+wordsFor(n)]
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	var b [8]byte
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[:], atomic.LoadUint64(&ws[i/8]))
		copy(dst[i:], b[:])
	}
	return dst
}
