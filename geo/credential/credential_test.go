package credential

import (
	"errors"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

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
	if _, err := HashPassword("short"); !errors.Is(err, geo.ErrInvalid) {
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

// TestSign checks the signature against RFC 4231's test case 2.
func TestSign(t *testing.T) {
	got := Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
