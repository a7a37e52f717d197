package ring

import (
	"fmt"
	"strings"
)

// wrapErr names the package once: its text is "ring: <context>: <cause>",
// with the cause's own package prefix dropped ("ring: queue "q": closed",
// not "ring: queue "q": ring: closed"), and it unwraps to the cause, so
// errors.Is still finds the sentinel.
type wrapErr struct {
	context string
	err     error
}

func (e *wrapErr) Error() string { return "ring: " + e.context + ": " + trimPkg(e.err.Error()) }

func (e *wrapErr) Unwrap() error { return e.err }

// errorf wraps err with a context formatted from format and args.
func errorf(err error, format string, args ...any) error {
	return &wrapErr{context: fmt.Sprintf(format, args...), err: err}
}

// trimPkg drops a leading package prefix ("ring: ", "shm: ") from an
// error text.
func trimPkg(s string) string {
	i := strings.Index(s, ": ")
	if i <= 0 {
		return s
	}
	for _, r := range s[:i] {
		if r < 'a' || r > 'z' {
			return s
		}
	}
	return s[i+2:]
}
