// Package share holds the helpers that the share.go files of the handle
// packages (futex, ctypes, ring, dict) have in common: assigning a freshly
// opened handle to the zero value AttachShare was called on, and packing
// more than a name into a share descriptor.
package share

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Assign copies *src into *dst. Handles carry a noCopy marker, so a plain
// *dst = *src is what vet rightly flags elsewhere; here the source is a
// handle nobody else has seen yet, which is then dropped.
func Assign[T any](dst, src *T) {
	reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src).Elem())
}

// Attach opens a handle with open and assigns it to the zero value h: the
// body of most AttachShare methods.
func Attach[T any](h *T, open func() (*T, error)) error {
	o, err := open()
	if err != nil {
		return err
	}
	Assign(h, o)
	return nil
}

// sep separates a descriptor's fields. Object names may hold any byte but
// NUL (shm.CheckObjectName), so the name always comes last.
const sep = "\x00"

// ErrDesc is returned for a descriptor that Split cannot parse.
var ErrDesc = errors.New("share: malformed descriptor")

// Join packs fields and then name into one descriptor.
func Join(name string, fields ...string) string {
	return strings.Join(append(fields, name), sep)
}

// Split unpacks a descriptor made by Join with n fields before the name.
func Split(desc string, n int) (name string, fields []string, err error) {
	parts := strings.SplitN(desc, sep, n+1)
	if len(parts) != n+1 {
		return "", nil, fmt.Errorf("%w: %d fields, want %d", ErrDesc, len(parts)-1, n)
	}
	return parts[n], parts[:n], nil
}

// Int parses a numeric descriptor field.
func Int(field string) (int, error) {
	n, err := strconv.Atoi(field)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrDesc, field)
	}
	return n, nil
}
