package shepherd

import (
	"testing"
	"unsafe"
)

// TestQueueEntryOverhead pins what QueueSize's doc says a queued item costs
// beside the item itself: 24 bytes (position, weight, time stamp).
func TestQueueEntryOverhead(t *testing.T) {
	if got := unsafe.Sizeof(entry[struct{}]{}); got != 24 {
		t.Fatalf("a queue entry holds %d bytes beside its item; QueueSize's doc says 24: update it", got)
	}
}
