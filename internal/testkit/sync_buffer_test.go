package testkit

import (
	"strings"
	"sync"
	"testing"
)

// TestSyncBufferConcurrentWrites: writers on many goroutines and a reader
// share the buffer (run under -race); every write is kept whole.
func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("line\n", 800) {
		t.Errorf("%d bytes, want %d whole lines", len(got), 800)
	}
}
