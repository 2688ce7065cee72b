package shepherd_test

import "testing"

// TestResizeSignalWaitingIsNoQueuedItem: while a shrink's stop signal
// waits for room in a full queue, Stats still counts the queued item as
// queued and the items being handled as in flight; the signal is no item,
// in the queue or out of it.
func TestResizeSignalWaitingIsNoQueuedItem(t *testing.T) {
	pool, _, finish := shrinkIntoFullQueue(t)
	st := pool.Stats()
	finish()
	if st.Queued != 1 || st.InFlight != 2 || st.Submitted != 3 {
		t.Fatalf("Stats() while the stop signal waits = %+v; want 3 submitted, 1 queued, 2 in flight", st)
	}
}
