package geo

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestScopeAreas(t *testing.T) {
	areas := []Area{
		{Code: "H1", ParentCode: "C1"}, {Code: "H2", ParentCode: "C1"},
		{Code: "H3", ParentCode: "C2"}, {Code: "C2", ParentCode: "P80"},
		{Code: "X", ParentCode: "Y"}, {Code: "Y", ParentCode: "X"}, // a cycle
	}
	for _, c := range []struct {
		codes   []string
		want    []bool
		unknown []string
	}{
		{[]string{"C1"}, []bool{true, true, false, false, false, false}, nil},  // a commune not loaded as an area
		{[]string{"H3"}, []bool{false, false, true, false, false, false}, nil}, // one hamlet
		{[]string{"P80"}, []bool{false, false, true, true, false, false}, nil}, // through a loaded commune
		{[]string{"H1", "NOPE"}, []bool{true, false, false, false, false, false}, []string{"NOPE"}},
		{[]string{"Z"}, []bool{false, false, false, false, false, false}, []string{"Z"}}, // the cycle ends
	} {
		got, unknown := ScopeAreas(areas, c.codes)
		if !slices.Equal(got, c.want) || !slices.Equal(unknown, c.unknown) {
			t.Errorf("%v: covered %v unknown %v, want %v %v", c.codes, got, unknown, c.want, c.unknown)
		}
	}
}

func TestUserValidate(t *testing.T) {
	for _, c := range []struct {
		u     User
		field string
	}{
		{User{Name: "ict.tayninh", Role: RoleAdmin}, ""},
		{User{Name: "tổ-cns_ấp.3@xã", Role: RoleStaff, Scope: []string{"80001"}}, ""},
		{User{Name: "viettel", Role: RoleCarrier, Carrier: Viettel}, ""},
		{User{Name: "", Role: RoleAdmin}, "name"},
		{User{Name: "a b", Role: RoleAdmin}, "name"},
		{User{Name: "<script>", Role: RoleAdmin}, "name"},
		{User{Name: strings.Repeat("a", 65), Role: RoleAdmin}, "name"},
		{User{Name: "a", Role: "root"}, "role"},
		{User{Name: "a", Role: RoleStaff}, "scope"},
		{User{Name: "a", Role: RoleAdmin, Scope: []string{"H1"}}, "scope"},
		{User{Name: "a", Role: RoleStaff, Scope: []string{"H1,H2"}}, "scope"},
		{User{Name: "a", Role: RoleCarrier}, "carrier"},
		{User{Name: "a", Role: RoleCarrier, Carrier: CarrierAll}, "carrier"},
		{User{Name: "a", Role: RoleReviewer, Carrier: Viettel}, "carrier"},
	} {
		err := c.u.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.u, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !slices.ContainsFunc(AsFieldErrors(err), func(e *FieldError) bool { return e.Field == c.field }) {
			t.Errorf("%+v: %v, want an error naming %s", c.u, err, c.field)
		}
	}
}
