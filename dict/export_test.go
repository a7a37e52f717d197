package dict

// Geometry exposes a table's word layout to the tests: the word index of
// bucket 0 and of slot 0, and the words per slot.
func Geometry(slots, stripes, keyMax, valueMax int) (bucketsW, slotsW, slotWords int) {
	t := newGeometry(slots, stripes, keyMax, valueMax)
	return t.bucketsW, t.slotsW, t.slotWords
}
