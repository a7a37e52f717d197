// Package cgofreetests holds the integration tests that cross package and
// process boundaries at once: several shmkit primitives used together by
// real separate processes, the README example built and run, and a check
// that the library itself never needs cgo. CI runs them with
// CGO_ENABLED=0 like every other test.
package cgofreetests
