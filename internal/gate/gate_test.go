package gate

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// TestForSharesAndFrees: For returns one Gate per key while it is held,
// and the entry goes once no one holds the Gate.
func TestForSharesAndFrees(t *testing.T) {
	base := Len()
	k := Key{ID: 1, Off: 64}
	a, b := For(k), For(k)
	if a != b {
		t.Fatal("two For of one key returned different gates")
	}
	if For(Key{ID: 1, Off: 72}) == a || For(Key{ID: 2, Off: 64}) == a {
		t.Fatal("different keys share a gate")
	}
	held := []*Gate{a}
	const n = 10000
	for i := 0; i < n; i++ {
		For(Key{ID: 3, Off: i})
	}
	waitLen(t, base+1)
	if For(k) != held[0] {
		t.Fatal("a held gate was replaced")
	}
	runtime.KeepAlive(held)
	held = nil
	waitLen(t, base)
}

// waitLen fails unless the registry settles to want entries within 30 s.
func waitLen(t *testing.T, want int) {
	t.Helper()
	if n := Settle(want, 30*time.Second); n != want {
		t.Fatalf("registry has %d entries; want %d", n, want)
	}
}

// TestEnterLeave: one goroutine holds the turn; another waits for it or
// for its context.
func TestEnterLeave(t *testing.T) {
	g := For(Key{ID: 4})
	if err := g.Enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := g.Enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter while held: got %v; want DeadlineExceeded", err)
	}
	got := make(chan error)
	go func() { got <- g.Enter(context.Background()) }()
	g.Leave()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	g.Leave()
}

// TestRound: the first caller is the sleeper; the others get the channel
// that EndRound closes, told whether the sleeper sleeps on their value.
func TestRound(t *testing.T) {
	g := For(Key{ID: 5})
	if s, _, _ := g.BeginRound(7); !s {
		t.Fatal("first BeginRound is not the sleeper")
	}
	s, ended, same := g.BeginRound(7)
	if s || !same {
		t.Fatalf("second BeginRound(7): sleeper %v, same %v; want false, true", s, same)
	}
	if _, ended2, same := g.BeginRound(8); !same && ended2 != ended {
		t.Fatal("waiters of one round got different channels")
	} else if same {
		t.Fatal("BeginRound(8) with a sleeper on 7 reports the same value")
	}
	select {
	case <-ended:
		t.Fatal("round ended before EndRound")
	default:
	}
	g.EndRound()
	<-ended
	if s, _, _ := g.BeginRound(8); !s {
		t.Fatal("BeginRound after EndRound is not the sleeper")
	}
	g.EndRound()
}
