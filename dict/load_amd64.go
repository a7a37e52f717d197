package dict

// On amd64 (x86-TSO) loads are not reordered with later loads, and the
// compiler keeps plain loads before a later atomic load of the same memory
// state, so a reader may copy a cell with memmove and compare keys as
// strings before re-checking the sequence word. This is the hot path of
// every Get.

// keyEqual compares key with the key of the cell at word cw.
func (t *table) keyEqual(cw int, key string) bool {
	o := 8 * (cw + cellHdrW)
	return string(t.b[o:o+len(key)]) == key
}

// loadBytes appends n bytes from the words at w0 to dst[:0].
func (t *table) loadBytes(dst []byte, w0 int, n int) []byte {
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	copy(dst, t.b[8*w0:8*w0+n])
	return dst
}
