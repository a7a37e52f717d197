package shm_test

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/shm"
)

func TestLookupOpenInfo(t *testing.T) {
	s, _ := newSegment(t, 1<<16, nil)
	if _, err := s.CreateObject("thing", kindTest, 1<<16|3, 64, nil); err != nil {
		t.Fatal(err)
	}
	info, err := s.Lookup("thing")
	if err != nil || info.Name != "thing" || info.Kind != kindTest || info.Version != 1<<16|3 || !info.Ready || info.Size != 64 {
		t.Fatalf("Lookup(thing) = %+v, %v; want the ready 64-byte object", info, err)
	}
	if _, err := s.Lookup("missing"); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("Lookup(missing) = %v; want ErrNotExist", err)
	}
	o, err := s.OpenInfo(info, 1<<16)
	if err != nil || o.Offset() != info.Offset || o.Size() != 64 {
		t.Errorf("OpenInfo = %+v, %v; want the object at %d", o, err, info.Offset)
	}
	if _, err := s.OpenInfo(info, 2<<16); !errors.Is(err, shm.ErrVersion) {
		t.Errorf("OpenInfo of another major version = %v; want ErrVersion", err)
	}
	info.Ready = false
	if _, err := s.OpenInfo(info, 1<<16); !errors.Is(err, shm.ErrNotInitialized) {
		t.Errorf("OpenInfo of an entry being created = %v; want ErrNotInitialized", err)
	}
}
