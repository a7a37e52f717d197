package shm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shmkit/shmkit/shm"
)

// Publishing an object is a release and finding it an acquire, also for the
// race detector, which cannot see the atomics on the mapping (see package
// internal/race): Go memory written before CreateObject may be read after OpenObject.
// Under -race a missing edge fails this test with a reported race.
func TestPublishHappensBefore(t *testing.T) {
	s, name := newSegment(t, 1<<16, nil)
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var config []int // Go-heap state handed over through the directory
	go func() {
		config = []int{1, 2, 3}
		if _, err := s.CreateObject("config", kindTest, 1<<16, 8, nil); err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s2.OpenObject("config", kindTest, 1<<16)
		if err == nil {
			break
		}
		if !errors.Is(err, shm.ErrNotExist) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Microsecond)
	}
	if len(config) != 3 {
		t.Errorf("config = %v after the object was found; want it set", config)
	}
}
