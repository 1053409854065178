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
