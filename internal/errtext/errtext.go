// Package errtext builds the error messages of shmkit's packages so that
// each message carries one package prefix and names each object once,
// however many layers wrap it. A layer writes what it knows, in the usual
// form
//
//	errtext.Errorf("futex: open lock %q: %w", name, err)
//
// and err's own text, "shm: open object \"l\": shm: does not exist", loses
// what the outer layer already said: the inner package prefixes ("shm: ")
// and a part that only names an object already named ("open object
// \"l\""). The message reads "futex: open lock \"l\": does not exist"; the
// wrapped errors stay reachable for errors.Is and errors.As.
package errtext

import (
	"fmt"
	"strings"
)

// packages are the prefixes that only the first part of a message keeps.
var packages = map[string]bool{
	"shm": true, "futex": true, "ctypes": true, "ring": true, "proc": true, "dict": true,
}

// Errorf is fmt.Errorf with the message cleaned by Clean.
func Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if msg := Clean(err.Error()); msg != err.Error() {
		return &cleaned{msg: msg, err: err}
	}
	return err
}

// cleaned is an error with a cleaned text that unwraps to the original.
type cleaned struct {
	msg string
	err error
}

func (e *cleaned) Error() string { return e.msg }
func (e *cleaned) Unwrap() error { return e.err }

// Clean returns msg, a message of ": "-separated parts, without the parts
// after the first that are a package prefix ("shm") or that consist of a
// lower-case operation and one quoted name an earlier part already
// quoted (open object "l"). Separators inside quoted names do not count.
func Clean(msg string) string {
	parts := split(msg)
	out := parts[:1]
	seen := map[string]bool{}
	for _, q := range quoted(parts[0]) {
		seen[q] = true
	}
	for _, p := range parts[1:] {
		if packages[p] {
			continue
		}
		q := quoted(p)
		if len(q) == 1 && seen[q[0]] && p == opWords(p)+q[0] {
			continue
		}
		out = append(out, p)
		for _, q := range q {
			seen[q] = true
		}
	}
	return strings.Join(out, ": ")
}

// split cuts msg at every ": " outside double quotes (Go %q syntax).
func split(msg string) []string {
	var parts []string
	start, inQuote := 0, false
	for i := 0; i < len(msg); i++ {
		switch c := msg[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ':' && i+1 < len(msg) && msg[i+1] == ' ':
			parts = append(parts, msg[start:i])
			start = i + 2
			i++
		}
	}
	return append(parts, msg[start:])
}

// quoted returns the quoted strings of p, quotes included.
func quoted(p string) []string {
	var qs []string
	for i := 0; i < len(p); i++ {
		if p[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(p) && p[j] != '"'; j++ {
			if p[j] == '\\' {
				j++
			}
		}
		if j < len(p) {
			qs = append(qs, p[i:j+1])
		}
		i = j
	}
	return qs
}

// opWords returns the leading lower-case words and spaces of p.
func opWords(p string) string {
	i := 0
	for i < len(p) && (p[i] == ' ' || 'a' <= p[i] && p[i] <= 'z') {
		i++
	}
	return p[:i]
}
