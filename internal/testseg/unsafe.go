package testseg

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// UnsafeConfined keeps package unsafe in the file that lays shared memory
// out: it fails t if a non-test Go file of the package in the current
// directory other than layout.go imports unsafe, or if layout.go does not
// open with "This file encapsulates usage of unsafe" (the house rule: unsafe
// lives in few files, each named for what it lays out, and says so).
func UnsafeConfined(t *testing.T) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "layout.go" {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" {
				t.Errorf("%s imports unsafe; only layout.go may", f)
			}
		}
	}
	src, err := os.ReadFile("layout.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "This file encapsulates usage of unsafe") {
		t.Error(`layout.go lacks the "This file encapsulates usage of unsafe" header`)
	}
}
