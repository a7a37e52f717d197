package dict_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnsafeConfined keeps STYLE.md rule 2: of the package's own files only
// layout.go imports unsafe.
func TestUnsafeConfined(t *testing.T) {
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
			if imp.Path.Value == `"unsafe"` {
				t.Errorf("%s imports unsafe; only layout.go may", f)
			}
		}
	}
}
