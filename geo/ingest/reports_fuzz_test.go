package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

func addSeeds(f *testing.F, glob string, extra ...string) {
	files, err := filepath.Glob(glob)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// checkSummary asserts what must hold for any input.
func checkSummary(t *testing.T, sum ReadSummary, accepted []gotReport, maxErrors int) {
	t.Helper()
	if sum.Accepted+sum.Rejected != sum.Read {
		t.Fatalf("accepted %d + rejected %d != read %d", sum.Accepted, sum.Rejected, sum.Read)
	}
	if sum.Accepted != len(accepted) {
		t.Fatalf("summary says %d accepted, fn got %d", sum.Accepted, len(accepted))
	}
	if len(sum.Errors) > maxErrors || (sum.Truncated && len(sum.Errors) != maxErrors) {
		t.Fatalf("%d errors kept, truncated %v, cap %d", len(sum.Errors), sum.Truncated, maxErrors)
	}
	if sum.Rejected > 0 && len(sum.Errors) == 0 {
		t.Fatalf("%d rows rejected without an error", sum.Rejected)
	}
	for _, e := range sum.Errors {
		if e.Row <= 0 || (e.Field == "" && e.Reason == "") {
			t.Fatalf("error without row or description: %+v", e)
		}
	}
	last := 0
	for _, g := range accepted {
		if g.row <= last {
			t.Fatalf("row %d after row %d", g.row, last)
		}
		last = g.row
		if err := g.rep.Validate(testNow); err != nil {
			t.Fatalf("accepted report at row %d fails Validate: %v", g.row, err)
		}
	}
}

func FuzzReadReportsCSV(f *testing.F) {
	addSeeds(f, "testdata/reports*.csv",
		"lat;lon;observed_at;carrier\n1,5;2;2025-07-01 00:00:00;45204\n",
		"lat,lon,observed_at,carrier,note\n1,2,2025-07-01T00:00:00Z,viettel,\"a\nb\"\n1,2,x,y\n",
	)
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxErrors = 50
		got, sum, err := readAll(t, string(in), FormatCSV, ReportOptions{MaxErrors: maxErrors})
		checkSummary(t, sum, got, maxErrors)
		if err != nil || len(got) == 0 {
			return
		}
		// What was accepted re-encodes to CSV and reads back the same.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(reportFieldNames[:])
		for _, g := range got {
			if strings.ContainsRune(g.rep.Note, '\r') {
				return // csv.Reader folds \r\n inside quotes to \n
			}
			w.Write(encodeReport(g.rep))
		}
		w.Flush()
		again, sum2, err := readAll(t, buf.String(), FormatCSV, ReportOptions{})
		if err != nil || sum2.Accepted != len(got) {
			t.Fatalf("re-read of accepted reports: %v, %+v\n%s", err, sum2, buf.String())
		}
		for i := range got {
			a, b := got[i].rep, again[i].rep
			if !a.ObservedAt.Equal(b.ObservedAt) {
				t.Fatalf("row %d: observed_at %v, re-read %v", i, a.ObservedAt, b.ObservedAt)
			}
			if ea, eb := encodeReport(a), encodeReport(b); !slices.Equal(ea, eb) {
				t.Fatalf("row %d:\nfirst   %q\nre-read %q", i, ea, eb)
			}
		}
	})
}

func encodeReport(r *geo.Report) []string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	return []string{
		r.ID, strconv.FormatFloat(r.Lat, 'g', -1, 64), strconv.FormatFloat(r.Lon, 'g', -1, 64),
		r.ObservedAt.Format(time.RFC3339Nano), r.Carrier.String(), r.Tech.String(),
		num(r.SignalDBm), num(r.DownloadMbps), num(r.UploadMbps), strconv.FormatBool(r.NoService),
		r.Source.String(), r.Reporter, r.Note,
	}
}

func FuzzReadReportsGeoJSON(f *testing.F) {
	addSeeds(f, "testdata/reports*.geojson",
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[106,10]},"properties":{"observed_at":"2025-07-01T00:00:00Z","carrier":"viettel"}}`,
		`{"type":"FeatureCollection","features":[null,{},{"type":"Feature","geometry":{"type":"Point","coordinates":[1]}}]}`,
	)
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxErrors = 50
		got, sum, _ := readAll(t, string(in), FormatGeoJSON, ReportOptions{MaxErrors: maxErrors})
		checkSummary(t, sum, got, maxErrors)
	})
}

// FuzzDecodeReport fuzzes the decoders of POST /api/v1/reports bodies (a
// JSON object when kind is even, a GeoJSON Feature when odd). What one
// accepts must read back the same through the other and through a CSV file.
func FuzzDecodeReport(f *testing.F) {
	seeds := []string{
		`{"lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-115}`,
		`{"id":"x1","Latitude":"9.05","lng":105.05,"observed_at":"2026-01-20 08:00:00","carrier":45204,"no_service":"có","note":"Mất sóng, \"ấp 3\""}`,
		`{"lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel","singal_dbm":-110}`,
		`{"lat":9.05,"lat":9.06,"LON":105.05,"observed_at":"2026-01-20T08:00:00Z","carrier":"viettel","no_service":1}`,
		`{"lat":1e999,"lon":-0,"observed_at":"2026-01-20T08:00:00.123456789-05:30","carrier":"452 04","download_mbps":null}`,
		`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[105.05,9.05,2]},"properties":{"observed_at":"2026-01-20T08:00:00Z","carrier":"mobifone","no_service":"Không"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[105.05]},"properties":{"lat":9.05,"carrier":{"a":1}}}`,
		`{"type":"Feature","geometry":null,"properties":[]}`,
		`[]`, `null`, ``, `{`, `{}`, "\ufeff{}", `{"note":"S\xf3ng"}`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
		f.Add([]byte(s), uint8(i+1))
	}
	f.Fuzz(func(t *testing.T, in []byte, kind uint8) {
		decode := DecodeReport
		if kind%2 == 1 {
			decode = DecodeReportFeature
		}
		rep, err := decode(in, testNow)
		if err != nil {
			es := geo.AsFieldErrors(err)
			if len(es) == 0 || !errors.Is(err, geo.ErrInvalid) {
				t.Fatalf("error %v is not a list of field errors", err)
			}
			for _, e := range es {
				if e.Field == "" || e.Reason == "" {
					t.Fatalf("error without field or reason: %+v", e)
				}
			}
			return
		}
		if err := rep.Validate(testNow); err != nil {
			t.Fatalf("accepted report fails Validate: %v", err)
		}
		want := encodeReport(&rep)
		for _, again := range []struct {
			name   string
			decode func([]byte, time.Time) (geo.Report, error)
			body   []byte
		}{
			{"JSON", DecodeReport, reportJSON(&rep, false)},
			{"Feature", DecodeReportFeature, reportJSON(&rep, true)},
		} {
			got, err := again.decode(again.body, testNow)
			if err != nil {
				t.Fatalf("%s of an accepted report refused: %v\n%s", again.name, err, again.body)
			}
			if !got.ObservedAt.Equal(rep.ObservedAt) || !slices.Equal(encodeReport(&got), want) {
				t.Fatalf("%s:\nfirst   %q\nre-read %q", again.name, want, encodeReport(&got))
			}
		}
		if strings.ContainsRune(rep.Note, '\r') {
			return // csv.Reader folds \r\n inside quotes to \n
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(reportFieldNames[:])
		w.Write(want)
		w.Flush()
		got, sum, err := readAll(t, buf.String(), FormatCSV, ReportOptions{})
		if err != nil || len(got) != 1 {
			t.Fatalf("CSV of an accepted report: %v, %+v\n%s", err, sum, buf.String())
		}
		if g := encodeReport(got[0].rep); !slices.Equal(g, want) {
			t.Fatalf("CSV:\nfirst   %q\nre-read %q", want, g)
		}
	})
}

// reportJSON encodes r as a POST body: a JSON object, or a GeoJSON Feature.
func reportJSON(r *geo.Report, asFeature bool) []byte {
	num := func(p *float64) any {
		if p == nil {
			return nil
		}
		return json.Number(strconv.FormatFloat(*p, 'g', -1, 64))
	}
	m := map[string]any{
		"id": r.ID, "observed_at": r.ObservedAt.Format(time.RFC3339Nano), "carrier": r.Carrier.String(),
		"tech": r.Tech.String(), "signal_dbm": num(r.SignalDBm), "download_mbps": num(r.DownloadMbps),
		"upload_mbps": num(r.UploadMbps), "no_service": r.NoService, "source": r.Source.String(),
		"reporter": r.Reporter, "note": r.Note,
	}
	lon, lat := json.Number(strconv.FormatFloat(r.Lon, 'g', -1, 64)), json.Number(strconv.FormatFloat(r.Lat, 'g', -1, 64))
	var v any = m
	if asFeature {
		v = map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []any{lon, lat}}, "properties": m}
	} else {
		m["lat"], m["lon"] = lat, lon
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// benchCSV is n report rows as a field team's export would hold them.
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,download_mbps,upload_mbps,no_service,source,reporter,note\n")
	carriers := []string{"viettel", "vinaphone", "mobifone", "452-05"}
	techs := []string{"4G", "3G", "5G", "none"}
	for i := range n {
		fmt.Fprintf(&b, "r%d,%.6f,%.6f,2025-07-%02dT%02d:%02d:%02d+07:00,%s,%s,%d,%.2f,%.2f,%t,app,Tổ CNS ấp %d,\n",
			i, 9.0+float64(i%1000)*0.001, 105.0+float64(i%997)*0.001, 1+i%28, i%24, i%60, i%60,
			carriers[i%4], techs[i%4], -80-i%50, float64(i%300)/10, float64(i%100)/10, i%17 == 0, i%40)
	}
	return b.Bytes()
}

func BenchmarkReadReportsCSV(b *testing.B) {
	for _, n := range []int{100_000} {
		in := benchCSV(n)
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			b.ResetTimer()
			for b.Loop() {
				sum, err := ReadReports(context.Background(), bytes.NewReader(in), FormatCSV, ReportOptions{Now: testNow},
					func(int, *geo.Report) error { return nil })
				if err != nil || sum.Accepted != n {
					b.Fatalf("%v, %+v", err, sum)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
