//go:build race

package main

// raceEnabled reports a -race build, whose instrumented code is several
// times slower: timing bounds in load tests are scaled for it.
const raceEnabled = true
