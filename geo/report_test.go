package geo

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReportIDValidate(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	base := Report{Lat: 10.5, Lon: 106.1, ObservedAt: now.Add(-time.Hour), Carrier: Viettel, Tech: Tech4G}
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"generated", "r-0123456789abcdef", true},
		{"with dots and colons", "xa-25.ap:3_b~1", true},
		{"Vietnamese letters", "ấp-bình-hòa-1", true},
		{"a slash", "a/b", false},
		{"a backslash", `a\b`, false},
		{"a question mark", "a?b", false},
		{"a hash", "a#b", false},
		{"a percent", "a%2Fb", false},
		{"a control character", "a\tb", false},
		{"too long", strings.Repeat("x", MaxIDLen+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.ID = tc.id
			err := r.Validate(now)
			if tc.ok && err != nil {
				t.Errorf("id %q: %v", tc.id, err)
			}
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "id:") {
					t.Errorf("id %q: error %v, want one naming id", tc.id, err)
				}
			}
		})
	}
}
