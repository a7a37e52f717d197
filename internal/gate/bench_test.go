package gate

import (
	"context"
	"testing"
)

// BenchmarkFor is the cost a handle pays once, when it is built: the
// registry lookup of an existing gate (hit) or the making of a new one
// (miss: allocation, weak pointer, cleanup).
func BenchmarkFor(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		g := For(Key{ID: 6})
		for b.Loop() {
			if For(Key{ID: 6}) != g {
				b.Fatal("another gate")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		i := 0
		for b.Loop() {
			For(Key{ID: 7, Off: i})
			i++
		}
	})
}

// BenchmarkRound is the Go-side cost of one kernel wait on the slow path:
// a round with no other waiter, and a turn taken and passed on.
func BenchmarkRound(b *testing.B) {
	g := For(Key{ID: 8})
	b.Run("round", func(b *testing.B) {
		for b.Loop() {
			if s, _, _ := g.BeginRound(1); !s {
				b.Fatal("not the sleeper")
			}
			g.EndRound()
		}
	})
	b.Run("turn", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			if err := g.Enter(ctx); err != nil {
				b.Fatal(err)
			}
			g.Leave()
		}
	})
}
