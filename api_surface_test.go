package shepherd_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxTopLevel is the ceiling on the package's top-level exported
// identifiers. It only ever goes down: an identifier added to the API must
// earn its place by another one leaving, and whoever shrinks the API lowers
// the ceiling in the same commit.
//
// It was 104 when it was set. The weighted capacity, Remove, the
// observability and HTTP work landed in parallel with it and took it to
// 126; the rename commit for the public API (issue 17) brought it to 75.
const maxTopLevel = 75

// surface is what a user of the package has to learn, counted per kind.
type surface struct {
	consts, funcs, types, vars []string
	methods, fields            []string
}

func (s surface) topLevel() int {
	return len(s.consts) + len(s.funcs) + len(s.types) + len(s.vars)
}

// exportedSurface parses the non-test files of the package in dir and lists
// its exported identifiers: top-level consts, funcs, types and vars; the
// exported methods of exported types and those an exported interface
// declares (an embedded interface adds none of its own); and the exported
// fields of exported struct types (an embedded field counts under its type's
// name). Methods of unexported types are left out: the user learns them
// through the interface that makes them callable, which is counted.
func exportedSurface(dir string) (surface, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return surface{}, err
	}
	fset := token.NewFileSet()
	var s surface
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return surface{}, err
		}
		for _, decl := range f.Decls {
			s.addDecl(decl)
		}
	}
	for _, l := range []*[]string{&s.consts, &s.funcs, &s.types, &s.vars, &s.methods, &s.fields} {
		slices.Sort(*l)
	}
	return s, nil
}

func (s *surface) addDecl(decl ast.Decl) {
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return
		}
		if d.Recv == nil {
			s.funcs = append(s.funcs, d.Name.Name)
			return
		}
		if recv := receiverType(d.Recv.List[0].Type); ast.IsExported(recv) {
			s.methods = append(s.methods, recv+"."+d.Name.Name)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch sp := spec.(type) {
			case *ast.ValueSpec:
				for _, n := range sp.Names {
					if !n.IsExported() {
						continue
					}
					if d.Tok == token.CONST {
						s.consts = append(s.consts, n.Name)
					} else {
						s.vars = append(s.vars, n.Name)
					}
				}
			case *ast.TypeSpec:
				if !sp.Name.IsExported() {
					continue
				}
				s.types = append(s.types, sp.Name.Name)
				s.addFields(sp)
				s.addInterfaceMethods(sp)
			}
		}
	}
}

func (s *surface) addFields(sp *ast.TypeSpec) {
	st, ok := sp.Type.(*ast.StructType)
	if !ok {
		return
	}
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 { // embedded
			if name := receiverType(f.Type); ast.IsExported(name) {
				s.fields = append(s.fields, sp.Name.Name+"."+name)
			}
			continue
		}
		for _, n := range f.Names {
			if n.IsExported() {
				s.fields = append(s.fields, sp.Name.Name+"."+n.Name)
			}
		}
	}
}

func (s *surface) addInterfaceMethods(sp *ast.TypeSpec) {
	it, ok := sp.Type.(*ast.InterfaceType)
	if !ok {
		return
	}
	for _, m := range it.Methods.List {
		for _, n := range m.Names { // none for an embedded interface
			if n.IsExported() {
				s.methods = append(s.methods, sp.Name.Name+"."+n.Name)
			}
		}
	}
}

// receiverType returns the name of the type in a receiver or embedded field
// expression: T, *T, T[P] and *T[P] all give "T".
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel.Name
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestExportedSurface counts the package's exported API and fails when the
// top-level count grows past maxTopLevel. Run it with -v to see the counts;
// set SHEPHERD_API_LIST=1 to print every identifier as well.
func TestExportedSurface(t *testing.T) {
	s, err := exportedSurface(".")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("top-level exported identifiers: %d (%d consts, %d funcs, %d types, %d vars); %d methods; %d struct fields",
		s.topLevel(), len(s.consts), len(s.funcs), len(s.types), len(s.vars), len(s.methods), len(s.fields))
	if os.Getenv("SHEPHERD_API_LIST") != "" {
		for _, kind := range []struct {
			name string
			ids  []string
		}{{"const", s.consts}, {"func", s.funcs}, {"type", s.types}, {"var", s.vars}, {"method", s.methods}, {"field", s.fields}} {
			t.Logf("%-6s %s", kind.name, strings.Join(kind.ids, " "))
		}
	}
	if s.topLevel() > maxTopLevel {
		t.Errorf("the package exports %d top-level identifiers; the ceiling is %d. "+
			"Make the new one unexported, or remove another, rather than raising the ceiling.",
			s.topLevel(), maxTopLevel)
	}
	if s.topLevel() == 0 || len(s.methods) == 0 || len(s.fields) == 0 {
		t.Errorf("counted %d top-level identifiers, %d methods, %d fields: the parser found nothing, so the ratchet proves nothing",
			s.topLevel(), len(s.methods), len(s.fields))
	}
}

// TestExportedSurfaceCounts checks the counter itself on a small package.
func TestExportedSurfaceCounts(t *testing.T) {
	dir := t.TempDir()
	src := `package p

const A, b = 1, 2
const (
	C = iota
	D
)
var E, f int
func G() {}
func h() {}
type I struct {
	J, k int
	L
	*M
	fmt.Stringer
}
type L struct{}
type M[T any] struct{ N T }
type o struct{ P int }
type U interface {
	fmt.Stringer
	V() int
	w()
}
func (I) Q() {}
func (*M[T]) R() {}
func (o) S() {}
func (I) t() {}
`
	if err := os.WriteFile(dir+"/p.go", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/p_test.go", []byte("package p\nfunc TestX() {}\nconst Z = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := exportedSurface(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind      string
		got, want []string
	}{
		{"consts", s.consts, []string{"A", "C", "D"}},
		{"funcs", s.funcs, []string{"G"}},
		{"types", s.types, []string{"I", "L", "M", "U"}},
		{"vars", s.vars, []string{"E"}},
		{"methods", s.methods, []string{"I.Q", "M.R", "U.V"}},
		{"fields", s.fields, []string{"I.J", "I.L", "I.M", "I.Stringer", "M.N"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("exportedSurface: %s = %v; want %v", c.kind, c.got, c.want)
		}
	}
	if got := s.topLevel(); got != 9 {
		t.Errorf("topLevel() = %d; want 9", got)
	}
}
