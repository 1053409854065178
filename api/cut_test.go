package api

import (
	"encoding/json"
	"testing"
)

// TestLayerCutSaysHowMany: a layer answer cut at its limit says how many
// features matched and how many it holds; a whole answer says nothing
// more than its features.
func TestLayerCutSaysHowMany(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		name, path        string
		matched, returned int // 0, 0: not cut
	}{
		{"reports cut", "/api/v1/layers/reports?limit=7", 30, 7},
		{"reports of one carrier and hamlet cut", "/api/v1/layers/reports?bbox=105.10,10.50,105.12,10.52&carrier=viettel&limit=3", 20, 3},
		{"reports whole", "/api/v1/layers/reports?limit=30", 0, 0},
		{"areas cut", "/api/v1/layers/areas?limit=2", 3, 2},
		{"areas in a window cut", "/api/v1/layers/areas?bbox=105.0,10.4,105.2,10.6&limit=1", 2, 1},
		{"areas whole", "/api/v1/layers/areas?bbox=105.0,10.4,105.2,10.6", 0, 0},
		{"unobserved cut", "/api/v1/layers/unobserved?limit=1", 5, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.get(c.path)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var fc struct {
				Features       []json.RawMessage `json:"features"`
				NumberMatched  *int              `json:"numberMatched"`
				NumberReturned *int              `json:"numberReturned"`
			}
			if err := json.Unmarshal(r.body, &fc); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
			if c.matched == 0 {
				if fc.NumberMatched != nil || fc.NumberReturned != nil {
					t.Errorf("a whole answer of %d features says numberMatched %v, numberReturned %v", len(fc.Features), *fc.NumberMatched, *fc.NumberReturned)
				}
				return
			}
			if fc.NumberMatched == nil || fc.NumberReturned == nil {
				t.Fatalf("a cut answer of %d features says no counts: %.200s", len(fc.Features), r.body)
			}
			if *fc.NumberMatched != c.matched || *fc.NumberReturned != c.returned || len(fc.Features) != c.returned {
				t.Errorf("numberMatched %d, numberReturned %d, %d features; want %d, %d", *fc.NumberMatched, *fc.NumberReturned, len(fc.Features), c.matched, c.returned)
			}
		})
	}
}
