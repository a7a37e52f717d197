package ring

import "errors"

// ErrHolders: a pipe end already has as many open handles as its holder
// table holds (32); close one first. (CPython has no limit.)
var ErrHolders = errors.New("ring: too many handles on a pipe end")
