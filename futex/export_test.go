package futex

// holdRecords returns the number of entries in the RLock hold registry:
// records some handle still reaches, and collected ones whose cleanup has
// not run yet.
func holdRecords() int {
	return holds.Len()
}
