package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

func TestInspectDict(t *testing.T) {
	privateDir(t)
	s, err := shm.Create("seg-dict", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := dict.NewMap(s, "sessions", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		m.Set(ctx, k, []byte(k))
	}
	l, err := dict.NewList(s, "jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Append(ctx, []byte("x"))
	rc, out, errOut := shmkit(t, "inspect", "seg-dict")
	if rc != 0 {
		t.Fatalf("inspect: rc %d, stderr %q", rc, errOut)
	}
	t.Logf("shmkit inspect seg-dict:\n%s", out)
	// name, kind, len, capacity, table size, stripes, revision, recovered
	for _, want := range []string{
		`"sessions"\s+DMAP\s+3\s+64\s+\S+\s+8\s+3\s+0\s`,
		`"jobs"\s+DLST\s+1\s+\d+\s+\S+\s+1\s+1\s+0\s`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("inspect output lacks a row matching %s:\n%s", want, out)
		}
	}
}
