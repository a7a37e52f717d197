package reexec_test

import (
	"testing"

	"github.com/shmkit/shmkit/internal/reexec"
)

func init() { reexec.Register("nop", func() {}) }

// BenchmarkStartWait measures one re-execution of the test binary running
// a role that returns at once: the floor under proc's start+join.
func BenchmarkStartWait(b *testing.B) {
	for b.Loop() {
		c, err := reexec.Command("nop", reexec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		if err := c.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
