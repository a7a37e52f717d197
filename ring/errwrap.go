package ring

import "github.com/shmkit/shmkit/internal/errtext"

// errorf wraps err as "ring: <context>: <cause>", the context formatted
// from format and args. The text names the package once and each object
// once (internal/errtext drops the cause's own package prefix and what
// only repeats a name: "ring: queue "q": closed", not "ring: queue "q":
// ring: closed"); errors.Is and errors.As still find the cause.
func errorf(err error, format string, args ...any) error {
	return errtext.Errorf("ring: "+format+": %w", append(args, err)...)
}
