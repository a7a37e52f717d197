package procstat

import (
	"errors"
	"os"
	"testing"
)

func TestParse(t *testing.T) {
	line := "4242 (a) b) (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := Parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stat{State: 'S', PPid: 17, StartTime: 987654}); st != want {
		t.Fatalf("Parse: got %+v; want %+v", st, want)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 17", "1 (x) SS 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5", "1 (x) S 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -5"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q): got %v; want ErrFormat", bad, err)
		}
	}
}

func TestSelf(t *testing.T) {
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	byPid, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.StartTime == 0 || self.StartTime != byPid.StartTime || self.PPid != os.Getppid() || !self.Live() {
		t.Fatalf("Self %+v, Read(getpid) %+v, getppid %d", self, byPid, os.Getppid())
	}
	if _, err := Read(-1); err == nil {
		t.Fatal("Read(-1) succeeded")
	}
}
