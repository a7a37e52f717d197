package main

import (
	"testing"

	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/testproc"
)

func TestMain(m *testing.M) {
	benchkit.Main()
	testproc.Main(m)
}
