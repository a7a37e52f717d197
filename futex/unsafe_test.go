package futex

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUnsafeFenced keeps unsafe in layout.go (STYLE.md rule 2).
func TestUnsafeFenced(t *testing.T) {
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" && n != "layout.go" {
				t.Errorf("%s imports unsafe; only layout.go may", n)
			}
		}
	}
	b, err := os.ReadFile("layout.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "This file encapsulates usage of unsafe.") {
		t.Errorf("layout.go lacks the \"This file encapsulates usage of unsafe.\" header")
	}
}
