package shepherd_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSnippetsCompile keeps README.md and MIGRATING.md true: every
// ```go block in them must be an excerpt, line for line, of a .go file in
// this repository that the build or the tests compile (MIGRATING.md's
// snippets of other libraries come from bench/migrating_test.go, in the
// module that depends on them). Edit the code, then copy it to the doc.
func TestReadmeSnippetsCompile(t *testing.T) {
	var sources []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources = append(sources, normalize(string(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"README.md", "MIGRATING.md"} {
		checkSnippets(t, doc, sources)
	}
}

// checkSnippets reports each ```go block of doc that is not an excerpt of
// one of sources.
func checkSnippets(t *testing.T, doc string, sources []string) {
	text, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(text), -1)
	if len(blocks) == 0 {
		t.Fatalf("%s has no ```go blocks; the test would prove nothing", doc)
	}
	for _, b := range blocks {
		snippet := normalize(b[1])
		found := false
		for _, src := range sources {
			if strings.Contains(src, snippet) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s snippet is not an excerpt of any .go file in the repository:\n%s", doc, b[1])
		}
	}
}

// normalize drops each line's indentation, so a snippet taken from inside a
// function body still matches.
func normalize(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
