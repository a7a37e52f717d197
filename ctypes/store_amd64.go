package ctypes

// plainStoreAtomic: on amd64 an aligned 8-byte store is one MOV, which no
// reader sees torn, and stores are seen in program order (x86-TSO), so a
// store made under a lock needs no locked instruction of its own: the
// releasing compare-and-swap that follows orders it (storeLocked).
const plainStoreAtomic = true
