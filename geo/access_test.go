package geo

import (
	"errors"
	"strings"
	"testing"
)

// The viewers of the access tests: staff cover area 1 of three.
var (
	public   = &Viewer{}
	admin    = &Viewer{User: "ict", Role: RoleAdmin}
	reviewer = &Viewer{User: "rv", Role: RoleReviewer}
	staffH1  = &Viewer{User: "cb", Role: RoleStaff, Scope: []string{"H1"}, Areas: []bool{false, true, false}}
	viettel  = &Viewer{User: "vt", Role: RoleCarrier, Carrier: Viettel}
)

func TestViewerCan(t *testing.T) {
	// Columns: public, admin, reviewer, staff, carrier.
	viewers := []*Viewer{public, admin, reviewer, staffH1, viettel}
	tests := []struct {
		name string
		p    Permission
		want [5]bool
	}{
		{"anyone", Anyone, [5]bool{true, true, true, true, true}},
		{"own tokens", UseTokens, [5]bool{false, true, true, true, true}},
		{"raw reports", ReadReports, [5]bool{false, true, true, true, false}},
		{"submit reports", WriteReports, [5]bool{false, true, false, true, false}},
		{"gap lists", ReadGaps, [5]bool{false, true, true, false, true}},
		{"review", ReviewReports, [5]bool{false, true, true, false, false}},
		{"users", ManageUsers, [5]bool{false, true, false, false, false}},
		{"others' tokens", ManageAnyToken, [5]bool{false, true, false, false, false}},
		{"audit log", ReadAudit, [5]bool{false, true, false, false, false}},
		{"tasks", ReadTasks, [5]bool{false, true, false, true, false}},
		{"metrics", ReadMetrics, [5]bool{false, true, false, false, false}},
		{"hole state and history", ReadHoles, [5]bool{false, true, true, true, true}},
		{"answer holes", AnswerHoles, [5]bool{false, true, true, false, true}},
		{"rule disputes", RuleHoles, [5]bool{false, true, true, false, false}},
		{"webhooks", ManageWebhooks, [5]bool{false, true, false, false, true}},
	}
	for _, tc := range tests {
		for i, v := range viewers {
			if got := v.Can(tc.p); got != tc.want[i] {
				t.Errorf("%s: %q Can = %v, want %v", tc.name, v.Role, got, tc.want[i])
			}
			err := v.Check(tc.p)
			switch {
			case tc.want[i] && err != nil:
				t.Errorf("%s: %q Check = %v, want nil", tc.name, v.Role, err)
			case !tc.want[i] && v == public && !errors.Is(err, ErrUnauthenticated):
				t.Errorf("%s: public Check = %v, want ErrUnauthenticated", tc.name, err)
			case !tc.want[i] && v != public && (!errors.Is(err, ErrForbidden) || errors.Is(err, ErrInvalid)):
				t.Errorf("%s: %q Check = %v, want ErrForbidden only", tc.name, v.Role, err)
			}
		}
	}
}

func TestViewerReach(t *testing.T) {
	tests := []struct {
		name      string
		v         *Viewer
		covers    [4]bool // areas -1, 0, 1, 5 (beyond the scope's list)
		coversAll bool
		carriers  [2]bool // Viettel, VinaPhone
		reporters bool
	}{
		{"public", public, [4]bool{}, false, [2]bool{true, true}, false},
		{"admin", admin, [4]bool{true, true, true, true}, true, [2]bool{true, true}, true},
		{"reviewer", reviewer, [4]bool{true, true, true, true}, true, [2]bool{true, true}, true},
		{"staff of H1", staffH1, [4]bool{false, false, true, false}, false, [2]bool{true, true}, false},
		{"Viettel", viettel, [4]bool{}, false, [2]bool{true, false}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, a := range []int32{-1, 0, 1, 5} {
				if got := tc.v.Covers(a); got != tc.covers[i] {
					t.Errorf("Covers(%d) = %v, want %v", a, got, tc.covers[i])
				}
			}
			if got := tc.v.CoversAll(); got != tc.coversAll {
				t.Errorf("CoversAll = %v, want %v", got, tc.coversAll)
			}
			for i, c := range []Carrier{Viettel, VinaPhone} {
				if got := tc.v.SeesCarrier(c); got != tc.carriers[i] {
					t.Errorf("SeesCarrier(%v) = %v, want %v", c, got, tc.carriers[i])
				}
			}
			if got := tc.v.SeesReporters(); got != tc.reporters {
				t.Errorf("SeesReporters = %v, want %v", got, tc.reporters)
			}
		})
	}
	if c, ok := viettel.OwnCarrier(); !ok || c != Viettel {
		t.Errorf("Viettel's own carrier: %v %v", c, ok)
	}
	if _, ok := reviewer.OwnCarrier(); ok {
		t.Error("a reviewer is limited to one carrier")
	}
}

func TestManagesTokensOf(t *testing.T) {
	tests := []struct {
		v    *Viewer
		user string
		want bool
	}{
		{public, "", false},
		{staffH1, "cb", true},
		{staffH1, "ict", false},
		{viettel, "vt", true},
		{admin, "cb", true},
	}
	for _, tc := range tests {
		if got := tc.v.ManagesTokensOf(tc.user); got != tc.want {
			t.Errorf("%q ManagesTokensOf(%q) = %v, want %v", tc.v.User, tc.user, got, tc.want)
		}
	}
}

// TestSeesHole: a hole is seen in full by its own carrier and the
// province (admins, reviewers, staff of an area it touches), and by
// everyone else as the public setting says.
func TestSeesHole(t *testing.T) {
	// Columns: public, admin, reviewer, staff of H1, Viettel.
	viewers := []*Viewer{public, admin, reviewer, staffH1, viettel}
	const (
		O = HoleOutline
		F = HoleFull
		N = HoleHidden
	)
	tests := []struct {
		name    string
		carrier Carrier
		areas   []int32
		public  HoleView
		want    [5]HoleView
	}{
		{"Viettel's hole in H1, outline", Viettel, []int32{1}, O, [5]HoleView{O, F, F, F, F}},
		{"Viettel's hole elsewhere, outline", Viettel, []int32{0, 2}, O, [5]HoleView{O, F, F, O, F}},
		{"VinaPhone's hole elsewhere, outline", VinaPhone, []int32{2}, O, [5]HoleView{O, F, F, O, O}},
		{"VinaPhone's hole across H1, outline", VinaPhone, []int32{0, 1}, O, [5]HoleView{O, F, F, F, O}},
		{"dead zone elsewhere, outline", CarrierAll, []int32{2}, O, [5]HoleView{O, F, F, O, O}},
		{"hole outside every area, outline", Viettel, nil, O, [5]HoleView{O, F, F, O, F}},
		{"VinaPhone's hole elsewhere, full", VinaPhone, []int32{2}, F, [5]HoleView{F, F, F, F, F}},
		{"VinaPhone's hole elsewhere, none", VinaPhone, []int32{2}, N, [5]HoleView{N, F, F, N, N}},
		{"Viettel's hole in H1, none", Viettel, []int32{1}, N, [5]HoleView{N, F, F, F, F}},
		{"dead zone in H1, none", CarrierAll, []int32{1}, N, [5]HoleView{N, F, F, F, N}},
	}
	for _, tc := range tests {
		for i, v := range viewers {
			if got := v.SeesHole(tc.carrier, tc.areas, tc.public); got != tc.want[i] {
				t.Errorf("%s: %q SeesHole = %v, want %v", tc.name, v.Role, got, tc.want[i])
			}
		}
	}
	for _, pub := range []HoleView{O, F, N} {
		for _, v := range viewers {
			want := pub == F || v == admin || v == reviewer
			if got := v.SeesAllHoles(pub); got != want {
				t.Errorf("public %v: %q SeesAllHoles = %v, want %v", pub, v.Role, got, want)
			}
		}
	}
}

func TestParseHoleView(t *testing.T) {
	for in, want := range map[string]HoleView{"outline": HoleOutline, "FULL": HoleFull, " none ": HoleHidden} {
		if got, err := ParseHoleView(in); err != nil || got != want {
			t.Errorf("ParseHoleView(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got, _ := ParseHoleView(want.String()); got != want {
			t.Errorf("%v does not round-trip", want)
		}
	}
	if _, err := ParseHoleView("some"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "outline, full, none") {
		t.Errorf("ParseHoleView(some): %v", err)
	}
}
