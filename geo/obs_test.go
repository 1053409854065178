package geo

import (
	"testing"
	"unsafe"
)

func TestObsSize(t *testing.T) {
	if s := unsafe.Sizeof(Obs{}); s > 48 {
		t.Fatalf("Obs is %d bytes, want <= 48", s)
	}
}

// TestToObsReporter checks that ToObs interns each report under its
// ReporterKey, whether the key is a submitter, a typed reporter or
// anonymous, with typed reporters that repeat, look like submitters, or
// carry Vietnamese text.
func TestToObsReporter(t *testing.T) {
	reps := []Report{
		{Reporter: "Tổ 2"}, {Submitter: "user:lan"}, {}, {Reporter: "Tổ 2"},
		{Reporter: "user:lan"}, {Submitter: "user:lan", Reporter: "Tổ 3"},
		{Reporter: "Tổ 3"}, {Reporter: "Tổ 2"}, {Submitter: "reporter:Tổ 3"},
	}
	rs := NewReporters()
	want := map[string]uint32{"": 0}
	for i := range reps {
		r := &reps[i]
		got := r.ToObs(rs).Reporter
		key := r.ReporterKey()
		if id, ok := want[key]; ok && got != id {
			t.Errorf("report %d (%q): id %d, want %d as before", i, key, got, id)
		}
		want[key] = got
		if name := rs.Name(got); name != key {
			t.Errorf("report %d: id %d names %q, want %q", i, got, name, key)
		}
	}
	if rs.Len() != len(want) {
		t.Errorf("%d names, want %d", rs.Len(), len(want))
	}
}
