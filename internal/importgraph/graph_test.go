package importgraph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/ocidns/ocidns"

// allowed is, for every package of the module (path relative to the
// module), the packages of ours its non-test code may import: the arrows
// of docs/architecture.md. trace ← dnsclient ← dnssec ← discovery ←
// resolver ← cmd; reference and internal/flight are leaves, and cache
// imports only internal/flight.
var allowed = map[string][]string{
	"discovery/trace":     {},
	"discovery/dnsclient": {"discovery/trace"},
	"discovery/dnssec":    {"discovery/trace", "discovery/dnsclient", "internal/flight"},
	"discovery":           {"discovery/trace", "discovery/dnsclient", "discovery/dnssec", "reference"},
	"reference":           {},
	"cache":               {"internal/flight"},
	"internal/flight":     {},
	"internal/bytesize":   {},
	"resolver/signature":  {"reference", "internal/bytesize"},
	"resolver":            {"discovery/trace", "discovery/dnsclient", "discovery/dnssec", "discovery", "cache", "reference", "resolver/signature", "internal/flight", "internal/bytesize"},

	// Beside the resolver: `ocidns check` judges a host's records with the
	// discovery code itself.
	"internal/check": {"discovery/trace", "discovery/dnsclient", "discovery/dnssec", "discovery", "reference", "resolver/signature"},
	// Above the resolver, below the command line.
	"internal/daemon":    {"discovery/trace", "cache", "reference", "resolver", "internal/tracepage"},
	"internal/tracepage": {"discovery/trace", "discovery", "resolver"},
	"internal/frontdoor": {"discovery", "reference", "resolver"},
	"internal/demo": {"discovery/trace", "discovery", "resolver", "resolver/signature", "internal/frontdoor", "internal/dnstest",
		"internal/registrytest", "internal/signtest"},
	"cmd/ocidns": {"discovery/trace", "discovery/dnsclient", "discovery/dnssec", "discovery", "cache", "reference",
		"resolver", "resolver/signature", "internal/check", "internal/daemon", "internal/frontdoor", "internal/demo", "internal/tracepage"},

	// Test support: in-process servers. dnstest builds the DNS client
	// tests use; it must stay below discovery, whose tests use it.
	"internal/dnstest":      {"discovery/trace", "discovery/dnsclient", "discovery/dnssec"},
	"internal/registrytest": {},
	"internal/signtest":     {"resolver/signature", "internal/registrytest"},
	// Helpers several packages' tests share (a test certificate, a
	// buffer safe for concurrent writers): a leaf, for tests only.
	"internal/testkit": {},

	// The end-to-end tests sit on top of everything (test code only).
	"internal/e2e":             {},
	"internal/e2e/pushimages":  {},
	"internal/e2e/tokenserver": {},
	"internal/importgraph":     {},
}

// testSupport may be imported by the tests of any package: the test
// servers, signing test images as cosign does (with the key types of
// resolver/signature, which imports only leaves), and the shared test
// helpers of internal/testkit.
var testSupport = []string{"internal/dnstest", "internal/registrytest", "internal/signtest", "resolver/signature", "internal/testkit"}

// testAllowed are the further imports of a package's tests: the tests of
// a package may use what its code may, itself, test support, and these.
var testAllowed = map[string][]string{
	// Example_daemon shows engines the daemon's API next to the library's.
	"resolver": {"internal/daemon"},
	// The verification core's tests sign real images and read published keys.
	"resolver/signature": {"discovery", "internal/signtest"},
	// The daemon's tests run against the demo lab.
	"internal/daemon": {"internal/demo"},
	// The trace page's tests draw traces of the demo lab.
	"internal/tracepage": {"internal/demo"},
	// The end-to-end tests drive the whole stack.
	"internal/e2e": {"discovery/trace", "discovery/dnsclient", "discovery/dnssec", "discovery", "cache", "reference",
		"resolver", "internal/check", "internal/daemon", "internal/frontdoor", "internal/demo"},
}

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// violation is one import the table does not allow.
type violation struct {
	from, to string
	test     bool
}

func (v violation) String() string {
	if v.test {
		return fmt.Sprintf("the tests of %s import %s", v.from, v.to)
	}
	return fmt.Sprintf("%s imports %s", v.from, v.to)
}

// check returns the imports of ours in pkgs that the tables do not allow,
// and the packages the table does not know.
func check(pkgs []pkg) (bad []violation, unknown []string) {
	ours := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		rel, ok := strings.CutPrefix(p, module+"/")
		return rel, ok
	}
	for _, p := range pkgs {
		from, _ := ours(p.ImportPath)
		may, known := allowed[from]
		if !known {
			unknown = append(unknown, from)
			continue
		}
		for _, imp := range p.Imports {
			if to, ok := ours(imp); ok && !slices.Contains(may, to) {
				bad = append(bad, violation{from: from, to: to})
			}
		}
		for _, imp := range append(slices.Clone(p.TestImports), p.XTestImports...) {
			to, ok := ours(imp)
			if !ok || to == from || slices.Contains(may, to) || slices.Contains(testSupport, to) || slices.Contains(testAllowed[from], to) {
				continue
			}
			v := violation{from: from, to: to, test: true}
			if !slices.Contains(bad, v) {
				bad = append(bad, v)
			}
		}
	}
	return bad, unknown
}

// root is the module root, from internal/importgraph.
var root = filepath.Join("..", "..")

// listModule runs `go list` over every package of the module.
func listModule(t *testing.T) []pkg {
	t.Helper()
	readSources(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(allowed)/2 {
		t.Fatalf("go list found %d packages; is the test running in the module?", len(pkgs))
	}
	return pkgs
}

// readSources reads every directory and Go file of the module in this
// process. go list reads them in a child process, which the test cache
// does not see: without this a cached pass would hide an import added
// since.
func readSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod"):
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportsPointOneWay fails on an import of ours that runs against the
// graph of docs/architecture.md, and on a package the table does not know.
func TestImportsPointOneWay(t *testing.T) {
	pkgs := listModule(t)
	bad, unknown := check(pkgs)
	for _, v := range bad {
		t.Errorf("%s: not an arrow of docs/architecture.md (the table in internal/importgraph/graph_test.go)", v)
	}
	for _, p := range unknown {
		t.Errorf("package %s is not in the import table: add it to internal/importgraph/graph_test.go and docs/architecture.md", p)
	}
	// Every package the table names exists, so the table stays the graph.
	listed := map[string]bool{}
	for _, p := range pkgs {
		listed[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	var stale []string
	for p := range allowed {
		if !listed[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(stale)
	for _, p := range stale {
		t.Errorf("the import table names %s, which is no package of the module", p)
	}
}

// The check can fail: an arrow the wrong way, from code or from tests, and
// an unknown package, are each reported.
func TestCheckReportsArrowsTheWrongWay(t *testing.T) {
	at := func(p string) string { return module + "/" + p }
	for _, tc := range []struct {
		name    string
		pkg     pkg
		bad     []violation
		unknown []string
	}{
		{"dnsclient imports discovery", pkg{ImportPath: at("discovery/dnsclient"), Imports: []string{"fmt", at("discovery/trace"), at("discovery")}},
			[]violation{{from: "discovery/dnsclient", to: "discovery"}}, nil},
		{"a leaf imports trace", pkg{ImportPath: at("cache"), Imports: []string{at("discovery/trace")}},
			[]violation{{from: "cache", to: "discovery/trace"}}, nil},
		{"discovery imports resolver", pkg{ImportPath: at("discovery"), Imports: []string{at("discovery/dnssec"), at("resolver")}},
			[]violation{{from: "discovery", to: "resolver"}}, nil},
		{"dnssec tests import discovery", pkg{ImportPath: at("discovery/dnssec"), XTestImports: []string{at("discovery/dnssec"), at("internal/dnstest"), at("discovery")}},
			[]violation{{from: "discovery/dnssec", to: "discovery", test: true}}, nil},
		{"the arrows of the graph", pkg{ImportPath: at("discovery"), Imports: []string{at("discovery/trace"), at("discovery/dnsclient"), at("discovery/dnssec")},
			XTestImports: []string{at("discovery"), at("internal/dnstest")}}, nil, nil},
		{"a package nobody placed", pkg{ImportPath: at("discovery/nsec")}, nil, []string{"discovery/nsec"}},
		{"code imports test helpers", pkg{ImportPath: at("resolver"), Imports: []string{at("internal/testkit")}, TestImports: []string{at("internal/testkit")}},
			[]violation{{from: "resolver", to: "internal/testkit"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, unknown := check([]pkg{tc.pkg})
			if !slices.Equal(bad, tc.bad) || !slices.Equal(unknown, tc.unknown) {
				t.Errorf("check = %v, %v; want %v, %v", bad, unknown, tc.bad, tc.unknown)
			}
		})
	}
}
