package shm_test

// Benchmark names: BenchmarkSegment/op=<create|open>/size=<bytes>,
// BenchmarkOpenObject/objects=<n>.

import (
	"fmt"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func BenchmarkSegment(b *testing.B) {
	const size = 1 << 20
	b.Run("op=create/size=1MiB", func(b *testing.B) {
		b.ReportAllocs()
		name := testproc.Name(b)
		for b.Loop() {
			s, err := shm.Create(name, size)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			if err := shm.Unlink(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("op=open/size=1MiB", func(b *testing.B) {
		b.ReportAllocs()
		_, name := newSegment(b, size, nil)
		for b.Loop() {
			s, err := shm.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}

func BenchmarkOpenObject(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		s, _ := newSegment(b, n*128, &shm.Options{Objects: 2048})
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("object-%d", i)
			if _, err := s.CreateObject(names[i], kindTest, 1<<16, 8, nil); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		for b.Loop() {
			if _, err := s.OpenObject(names[i%n], kindTest, 1<<16); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
