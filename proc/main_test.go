package proc_test

import (
	"os"
	"testing"

	"github.com/shmkit/shmkit/proc"
)

// envNoMain makes the test binary skip Main, to test a binary that forgot
// it (TestForgotMain).
const envNoMain = "PROC_TEST_NO_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envNoMain) == "" {
		proc.Main()
	}
	os.Exit(m.Run())
}
