package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

// BenchmarkPostReport is the server's own cost of one POST
// /api/v1/reports with an admin's API token over the city of 10,000
// hamlets: decoded, checked, committed to the GeoPackage (fsync) and put
// into the live analysis. The republication of the layers runs in the
// background and is not waited for.
func BenchmarkPostReport(b *testing.B) {
	srv, tok := newCityServer(b, geo.RoleAdmin)
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`{"lat":%.6f,"lon":%.6f,"observed_at":"2025-08-30T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-121}`,
			y0+0.01+float64(i%97)*0.0017, x0+0.01+float64(i%89)*0.002)
		req := httptest.NewRequest("POST", "/api/v1/reports", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 201 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	srv.WaitIdle()
}
