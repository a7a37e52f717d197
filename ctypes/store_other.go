//go:build !amd64

package ctypes

// plainStoreAtomic is false where stores may be reordered or split (arm64,
// 32-bit machines): storeLocked uses an atomic store.
const plainStoreAtomic = false
