// Package importgraph holds no code: its test keeps the import graph of
// ocidns pointing one way, as docs/architecture.md draws it. The test
// lists every package of the module with `go list` and fails on an import
// of ours that the table in graph_test.go does not allow, so an arrow that
// runs the wrong way (dnsclient importing discovery, discovery importing
// resolver, a leaf importing anything of ours) is a failing test, not a
// review comment. A new package, or a new arrow, is added to the table
// and to docs/architecture.md together.
package importgraph
