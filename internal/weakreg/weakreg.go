// Package weakreg is a registry of per-process records shared by every
// handle on one shared object, held weakly: a record stays while some
// handle holds it and its entry goes once the last such handle is
// collected, so a process that creates and drops many objects does not
// accumulate entries. futex's RLock hold records and internal/gate's Gates
// use it.
package weakreg

import (
	"runtime"
	"sync"
	"weak"
)

// A Registry maps keys to records held weakly. The zero value is empty and
// ready to use; a Registry must not be copied.
type Registry[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]weak.Pointer[V]
}

type entry[K comparable, V any] struct {
	k  K
	wp weak.Pointer[V]
}

// Get returns the record for k that some holder still reaches, or a new
// one made by mk and registered under k. The caller keeps the record for
// as long as it needs the entry.
func (r *Registry[K, V]) Get(k K, mk func() *V) *V {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v := r.m[k].Value(); v != nil {
		return v
	}
	if r.m == nil {
		r.m = make(map[K]weak.Pointer[V])
	}
	v := mk()
	wp := weak.Make(v)
	r.m[k] = wp
	runtime.AddCleanup(v, r.forget, entry[K, V]{k, wp})
	return v
}

// forget removes a collected record's entry, unless Get has already
// replaced it with a new record for the same key.
func (r *Registry[K, V]) forget(e entry[K, V]) {
	r.mu.Lock()
	if r.m[e.k] == e.wp {
		delete(r.m, e.k)
	}
	r.mu.Unlock()
}

// Len returns the number of entries: records some holder still reaches,
// and collected ones whose cleanup has not run yet.
func (r *Registry[K, V]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
