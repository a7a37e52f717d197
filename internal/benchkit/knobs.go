package benchkit

// Knob is one design choice and the transports that differ only in it:
// each Setting names a transport, and any two of them are equal in
// everything but this choice. The first Setting is what shmkit does.
type Knob struct {
	// Name is the key in benchmark names (knob=NAME).
	Name string
	// Desc says what is toggled.
	Desc string
	// Settings are the values (set=NAME), shmkit's first.
	Settings []Setting
}

// Setting is one value of a Knob and the transport that measures it.
type Setting struct {
	Name      string
	Transport string
}

// Knobs lists the ablations. The wait strategy and batching toggle shmkit's
// own ring (ring.Options.Wait; Write/ReadInto against Stage+Flush/Consume);
// sleep toggles the doorbell mailbox (doorbell.go); the others toggle the
// lab ring (labring.go), since ring has no switch for them.
func Knobs() []Knob {
	return []Knob{
		{"wait", "ring's wait strategy (ring.Options.Wait)", []Setting{
			{"hybrid", "shm-spsc"}, {"spin", "shm-spsc-spin"}, {"yield", "shm-spsc-yield"}, {"futex", "shm-spsc-futex"}, {"hybrid-noyield", "shm-spsc-noyield"}}},
		{"batch", "one release-store per message, or per batch (Stage+Flush, Consume); throughput only", []Setting{
			{"off", "shm-spsc"}, {"on", "shm-batch"}}},
		{"padding", "head, tail and wait words on their own cache lines, or on one", []Setting{
			{"on", "lab"}, {"off", "lab-nopad"}}},
		{"cached-index", "the peer's index cached and reloaded only when needed, or loaded every call", []Setting{
			{"on", "lab"}, {"off", "lab-nocache"}}},
		{"checksum", "no per-record checksum, or xxhash64 written and verified", []Setting{
			{"off", "lab"}, {"on", "lab-checksum"}}},
		{"wake", "FUTEX_WAKE only when the peer is parked, or after every publish", []Setting{
			{"parked", "lab"}, {"always", "lab-wakealways"}}},
		{"sleep", "what a waiter that never spins parks on: a futex word (no timeout, as ring's waits, or a 50 ms timeout on every wait), an eventfd, a pipe, a Unix socket in Go's netpoller (doorbell.go)", []Setting{
			{"futex", "bell-futex"}, {"futex-timed", "bell-futex-timed"}, {"eventfd", "bell-eventfd"}, {"pipe", "bell-pipe"}, {"netpoll", "bell-netpoll"}}},
	}
}
