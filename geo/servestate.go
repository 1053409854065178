package geo

import "context"

// ServeState is a running service's published analysis as it keeps it in
// the store, so that a restarted service serves it at once, while it reads
// the reports and analyses them again. Data is the service's own encoding
// of the analysis, opaque to the store.
type ServeState struct {
	// Areas and Teams are the store's change counters (see Version) of
	// the areas and teams the analysis ran over: a restarted service uses
	// the state only while the store's counters are still these.
	Areas, Teams int64
	// Reports is how many reports the analysis ran over.
	Reports int
	// Data is the encoded analysis.
	Data []byte
}

// ServeStateStore is a Store that keeps a ServeState across restarts.
type ServeStateStore interface {
	// SaveServeState replaces the kept state with st.
	SaveServeState(ctx context.Context, st ServeState) error
	// ServeState returns the kept state; ok is false when none is kept.
	ServeState(ctx context.Context) (st ServeState, ok bool, err error)
}
