// Package futex provides cross-process synchronisation in shared memory,
// built on the Linux futex system call (shared, non-private operations).
package futex
