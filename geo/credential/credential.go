// Package credential hashes passwords (argon2id in PHC format) and makes
// and hashes the random secrets of API tokens and sessions, and signs
// webhook deliveries (HMAC-SHA256). It is the only
// package of gapmap that imports golang.org/x/crypto; package geo holds
// the account types and knows nothing of how secrets are kept.
package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, one
// lane), about 30 ms per hash on one core of a small server.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ValidatePassword checks a new password's length: 10 to 256 characters.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return &geo.FieldError{Field: "password", Reason: "not valid UTF-8"}
	case n < geo.MinPasswordLen:
		return &geo.FieldError{Field: "password", Reason: fmt.Sprintf("shorter than %d characters", geo.MinPasswordLen)}
	case n > geo.MaxPasswordLen:
		return &geo.FieldError{Field: "password", Reason: fmt.Sprintf("longer than %d characters", geo.MaxPasswordLen)}
	}
	return nil
}

// HashPassword returns an argon2id hash of pw in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash) that other tools read.
func HashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("geo: malformed password hash")

// CheckPassword reports whether pw matches the PHC-format hash, in time
// that does not depend on where they differ. A malformed hash is an error.
func CheckPassword(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 100 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when a sign-in names an unknown user, so
// that the reply takes as long as for a known one. It is made on first
// use, so programs that never sign anyone in do not pay for it.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password of anyone")
	return h
})

// CheckNoPassword spends the time of one CheckPassword and returns false;
// sign-in calls it for unknown users so that timing does not tell which
// names exist.
func CheckNoPassword(pw string) bool {
	CheckPassword(dummyHash(), pw)
	return false
}

// NewSecret returns a new random secret with the given prefix (e.g.
// "gmt_" for API tokens) and the hex SHA-256 hash under which it is stored.
func NewSecret(prefix string) (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret returns the hex SHA-256 hash of a token or cookie secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewTokenID returns a new public token ID: "t-" and 12 hex digits.
func NewTokenID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "t-" + hex.EncodeToString(b)
}

// Sign returns the hex HMAC-SHA256 of body with key secret, as webhook
// deliveries carry it (X-Gapmap-Signature: sha256=<hex>).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
