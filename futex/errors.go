package futex

import "errors"

// ErrTimeout is returned by Wait when its time limit elapsed without a wake-up.
var ErrTimeout = errors.New("futex: timeout")
