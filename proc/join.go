package proc

import (
	"context"
	"errors"
)

// JoinAll joins each of ps in turn (the loop `for p in ps: p.join()`) and
// returns the failures of those that failed, joined with errors.Join, or
// ctx.Err() if ctx ends first.
func JoinAll(ctx context.Context, ps ...*Process) error {
	var errs []error
	for _, p := range ps {
		if err := p.Join(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Must returns v, and panics with err if err is not nil, as template.Must:
// the short form of a call whose failure the program cannot handle, such as
// proc.Must(proc.NewPool(5, nil)) in a tutorial's main.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
