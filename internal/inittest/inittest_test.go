package inittest

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

const module = "github.com/outposts-ha/outposts-ha"

// knownEagerRegexps lists package-level regexp compiles that are still there in
// files this change does not own (package-relative path and variable name). The
// list may only shrink: an entry whose regexp is gone fails the test, so whoever
// makes one lazy also deletes its entry here.
var knownEagerRegexps = map[string]bool{
	"internal/record/record.go:secretKey": true,
	"internal/record/record.go:yamlKey":   true,
}

// shippedPackages lists the module's packages linked into the shipped binaries
// (./cmd/...), with their directory and non-test Go files, via the real go list.
func shippedPackages(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \",\"}}", "./cmd/...")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || !strings.HasPrefix(f[0], module) || f[2] == "" {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		for _, name := range strings.Split(f[2], ",") {
			pkgs[rel] = append(pkgs[rel], filepath.Join(f[1], name))
		}
	}
	if len(pkgs) < 5 || pkgs["internal/spec"] == nil || pkgs["sanboot"] == nil || pkgs["wizard"] == nil {
		t.Fatalf("go list found too few of the module's packages in ./cmd/...: %v", pkgs)
	}
	return pkgs
}

// eagerRegexps returns "name" for each package-level var of file whose
// initializer compiles a regexp outside a function literal, and "init" for each
// init function that does.
func eagerRegexps(t *testing.T, fset *token.FileSet, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "regexp" {
			local = "regexp"
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" {
		return nil
	}
	compiles := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false // runs when called, not at init
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && strings.Contains(sel.Sel.Name, "Compile") {
						found = true
					}
				}
			}
			return !found
		})
		return found
	}
	var hits []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for i, v := range vs.Values {
					if compiles(v) {
						name := vs.Names[0].Name
						if i < len(vs.Names) {
							name = vs.Names[i].Name
						}
						hits = append(hits, name)
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" && d.Body != nil && compiles(d.Body) {
				hits = append(hits, "init")
			}
		}
	}
	return hits
}

// TestNoRegexpCompiledAtPackageInit parses the real source of every module
// package linked into ./cmd/... (no fakes) and fails if a package-level var or
// an init func compiles a regexp. Use sync.OnceValue, as internal/spec does.
func TestNoRegexpCompiledAtPackageInit(t *testing.T) {
	fset := token.NewFileSet()
	seen := map[string]bool{}
	var bad []string
	for rel, files := range shippedPackages(t) {
		for _, path := range files {
			for _, name := range eagerRegexps(t, fset, path) {
				key := rel + "/" + filepath.Base(path) + ":" + name
				seen[key] = true
				if !knownEagerRegexps[key] {
					bad = append(bad, key)
				}
			}
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		t.Errorf("%s compiles a regexp at package init; every start pays for it: wrap it in sync.OnceValue", k)
	}
	for k := range knownEagerRegexps {
		if !seen[k] {
			t.Errorf("knownEagerRegexps entry %s is stale (no longer an eager regexp): delete it", k)
		}
	}
}

// TestEagerRegexpDetector checks the detector itself on a small source file, so
// the test above cannot pass by finding nothing.
func TestEagerRegexpDetector(t *testing.T) {
	src := `package p

import (
	re "regexp"
	"sync"
)

var a = re.MustCompile("a")
var b = sync.OnceValue(func() *re.Regexp { return re.MustCompile("b") })
var (
	c, d = 1, re.MustCompile("d")
)

func init() { _ = re.MustCompile("e") }
`
	path := filepath.Join(t.TempDir(), "p.go")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(eagerRegexps(t, token.NewFileSet(), path), ",")
	if got != "a,d,init" {
		t.Fatalf("detector found %q, want a,d,init", got)
	}
}

// initLine is one line of GODEBUG=inittrace=1 output:
// init PKG @T ms, C ms clock, B bytes, N allocs
var initLine = regexp.MustCompile(`^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)

// initAllowance is the most a package of the module may allocate at init. Bytes
// and allocation counts are deterministic for one Go version, so this bound
// holds on a loaded machine, unlike a time budget.
const (
	perPackageBytes  = 8 << 10
	perPackageAllocs = 64
	totalBytes       = 24 << 10
)

// knownCostlyInit lists packages whose init is still above the per-package
// bound in code this change does not own, with the ceiling measured on
// 2026-11-29 (go1.26). They count against their ceiling, not the total.
var knownCostlyInit = map[string]struct{ bytes, allocs int }{
	"internal/record": {24 << 10, 160},
}

// TestProjectInitAllocations builds the real outposts-ha binary, runs
// `outposts-ha version` with GODEBUG=inittrace=1 (a real process, no fakes),
// and bounds the bytes and allocations of each of the module's package inits.
// Before issue 17, internal/spec allocated 1.1 MB in 12906 allocations at
// init and sanboot 630 KB; both now allocate a few KB.
func TestProjectInitAllocations(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "outposts-ha")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/outposts-ha")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin, "version")
	run.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	run.Stderr = &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("outposts-ha version: %v\n%s", err, stderr.String())
	}
	total, lines, project := 0, 0, 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		m := initLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lines++
		if !strings.HasPrefix(m[1], module+"/") {
			continue
		}
		project++
		rel := strings.TrimPrefix(m[1], module+"/")
		b, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		if k, ok := knownCostlyInit[rel]; ok {
			if b > k.bytes || n > k.allocs {
				t.Errorf("%s init: %d bytes in %d allocs, above its known ceiling %d bytes / %d allocs", rel, b, n, k.bytes, k.allocs)
			}
			continue
		}
		total += b
		if b > perPackageBytes || n > perPackageAllocs {
			t.Errorf("%s init: %d bytes in %d allocs; the bound is %d bytes / %d allocs per package. "+
				"Something at package level (a regexp, a table) is built on every start: make it lazy (sync.OnceValue)",
				rel, b, n, perPackageBytes, perPackageAllocs)
		}
	}
	if lines < 20 || project < 3 {
		t.Fatalf("inittrace gave %d init lines, %d of the module's; expected the runtime's trace on stderr:\n%s", lines, project, stderr.String())
	}
	if total > totalBytes {
		t.Errorf("the module's package inits allocate %d bytes in total, above %d", total, totalBytes)
	}
	t.Logf("module package inits (outside knownCostlyInit): %d bytes in total", total)
}
