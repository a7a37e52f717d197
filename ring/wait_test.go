package ring

import "testing"

// TestWakeClearsParkedFlag: the waker clears the parked flag, so the
// publishes that follow a wake-up, until the sleeper runs and parks again,
// make no further FUTEX_WAKE.
func TestWakeClearsParkedFlag(t *testing.T) {
	var word, parked uint32
	wake(&word, &parked)
	if parked != 0 {
		t.Fatalf("wake with no waiter: parked %d; want 0", parked)
	}
	parked = 1
	wake(&word, &parked)
	if parked != 0 {
		t.Fatalf("after wake: parked %d; want 0", parked)
	}
}
