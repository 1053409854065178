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

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("mật khẩu đủ dài")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not PHC argon2id", h)
	}
	h2, _ := HashPassword("mật khẩu đủ dài")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"mật khẩu đủ dài": true, "mat khau du dai": false, "": false} {
		if ok, err := CheckPassword(h, pw); ok != want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if ok, err := CheckPassword(bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
	if _, err := HashPassword("short"); !errors.Is(err, ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if CheckNoPassword("anything") {
		t.Error("CheckNoPassword said yes")
	}
}

func TestSecrets(t *testing.T) {
	s1, h1 := NewSecret("gmt_")
	s2, h2 := NewSecret("gmt_")
	if s1 == s2 || h1 == h2 || !strings.HasPrefix(s1, "gmt_") || len(s1) < 40 {
		t.Errorf("secrets %q %q", s1, s2)
	}
	if HashSecret(s1) != h1 || len(h1) != 64 {
		t.Errorf("hash %q", h1)
	}
	if id := NewTokenID(); len(id) != 14 || !strings.HasPrefix(id, "t-") {
		t.Errorf("token id %q", id)
	}
}
