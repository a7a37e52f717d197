//go:build !amd64

package dict

// Where plain loads may be reordered after a later load-acquire (arm64 and
// other weakly ordered machines), a reader copies keys and values with
// 8-byte atomic loads (words.go), which stay ordered before its re-check
// of the sequence word.

// keyEqual compares key with the key of the cell at word cw.
func (t *table) keyEqual(cw int, key string) bool { return t.keyEqualWords(cw, key) }

// loadBytes appends n bytes from the words at w0 to dst[:0].
func (t *table) loadBytes(dst []byte, w0 int, n int) []byte { return t.loadBytesWords(dst, w0, n) }
