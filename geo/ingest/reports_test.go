package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// testNow is the "now" of report tests: 1 August 2025, 00:00 UTC.
var testNow = time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)

func fp(v float64) *float64 { return &v }

type gotReport struct {
	row int
	rep *geo.Report
}

func readAll(t *testing.T, input string, f Format, opt ReportOptions) ([]gotReport, ReadSummary, error) {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = testNow
	}
	var got []gotReport
	sum, err := ReadReports(context.Background(), strings.NewReader(input), f, opt, func(row int, rep *geo.Report) error {
		got = append(got, gotReport{row, rep})
		return nil
	})
	return got, sum, err
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadReportsGood(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		format  Format
		want    []gotReport
		wantSum ReadSummary
	}{
		{
			name: "comma CSV with Vietnamese notes, MCC-MNC carriers, local time",
			file: "reports_good.csv", format: FormatCSV,
			want: []gotReport{
				{1, &geo.Report{
					ID: "r1", Lat: 10.5, Lon: 106.1, ObservedAt: time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC),
					Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: fp(-110), DownloadMbps: fp(1.5), UploadMbps: fp(0.4),
					Source: geo.SourceTeam, Reporter: "Tổ CNS ấp 3", Note: "Sóng yếu ở cuối ấp Bình Thạnh",
				}},
				{2, &geo.Report{
					ID: "r2", Lat: 9.18, Lon: 105.15, ObservedAt: time.Date(2025, 7, 2, 2, 0, 0, 0, time.UTC),
					Carrier: geo.VinaPhone, Tech: geo.Tech3G, SignalDBm: fp(-101.5),
					Source: geo.SourceStaff, Note: "Mất sóng, gần UBND xã",
				}},
				{3, &geo.Report{
					Lat: 9.2, Lon: 105.2, ObservedAt: time.Date(2025, 7, 3, 1, 0, 0, 250e6, time.UTC),
					Carrier: geo.MobiFone, Tech: geo.TechNone, NoService: true, Source: geo.SourceApp,
				}},
			},
			wantSum: ReadSummary{Read: 3, Accepted: 3},
		},
		{
			name: "BOM, semicolons, decimal commas, header case and spaces",
			file: "reports_semicolon.csv", format: FormatCSV,
			want: []gotReport{
				{1, &geo.Report{
					Lat: 10.5, Lon: 106.25, ObservedAt: time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC),
					Carrier: geo.VinaPhone, SignalDBm: fp(-110.5), DownloadMbps: fp(2.25), Note: "ghi chú",
				}},
			},
			wantSum: ReadSummary{Read: 1, Accepted: 1},
		},
		{
			name: "GeoJSON with string and number properties",
			file: "reports.geojson", format: FormatGeoJSON,
			want: []gotReport{
				{1, &geo.Report{
					ID: "g1", Lat: 9.18, Lon: 105.15, ObservedAt: time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC),
					Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: fp(-112), DownloadMbps: fp(0.8),
					Source: geo.SourceTeam, Reporter: "Tổ CNS ấp Phước Lợi", Note: `Vùng lõm sóng "Cái Nước"`,
				}},
				{7, &geo.Report{
					Lat: 9.3, Lon: 105.3, ObservedAt: time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC),
					Carrier: geo.Viettel, Tech: geo.TechNone, NoService: true,
				}},
			},
			wantSum: ReadSummary{Read: 7, Accepted: 2, Rejected: 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sum, err := readAll(t, readFixture(t, tc.file), tc.format, ReportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Read != tc.wantSum.Read || sum.Accepted != tc.wantSum.Accepted || sum.Rejected != tc.wantSum.Rejected {
				t.Errorf("summary = %d read, %d accepted, %d rejected; want %d, %d, %d (errors %v)",
					sum.Read, sum.Accepted, sum.Rejected, tc.wantSum.Read, tc.wantSum.Accepted, tc.wantSum.Rejected, sum.Errors)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d reports, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.row != w.row {
					t.Errorf("report %d: row %d, want %d", i, g.row, w.row)
				}
				if !g.rep.ObservedAt.Equal(w.rep.ObservedAt) {
					t.Errorf("report %d: observed_at %v, want %v", i, g.rep.ObservedAt, w.rep.ObservedAt)
				}
				gc, wc := *g.rep, *w.rep
				gc.ObservedAt, wc.ObservedAt = time.Time{}, time.Time{}
				if !reflect.DeepEqual(gc, wc) {
					t.Errorf("report %d:\ngot  %s\nwant %s", i, fmtReport(&gc), fmtReport(&wc))
				}
			}
		})
	}
}

func fmtReport(r *geo.Report) string {
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%+v signal=%s down=%s up=%s", *r, f(r.SignalDBm), f(r.DownloadMbps), f(r.UploadMbps))
}

func TestReadReportsNoteBytes(t *testing.T) {
	// NFC and NFD forms of "ấp" differ in bytes; both must come back as given.
	nfc := "\u1ea5p Bình Thạnh"
	nfd := "a\u0302\u0301p Bi\u0300nh Tha\u0323nh"
	in := "lat,lon,observed_at,carrier,note\n" +
		"10,106,2025-07-01T00:00:00Z,viettel," + nfc + "\n" +
		"10,106,2025-07-01T00:00:00Z,viettel,\"" + nfd + "\"\n" +
		"10,106,2025-07-01T00:00:00Z,viettel,  spaces kept  \n"
	got, _, err := readAll(t, in, FormatCSV, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{nfc, nfd, "  spaces kept  "} {
		if got[i].rep.Note != want {
			t.Errorf("note %d = % x, want % x", i, got[i].rep.Note, want)
		}
	}
}

func TestReadReportsBadRows(t *testing.T) {
	type wantErr struct {
		row    int
		field  string
		reason string // substring
	}
	tests := []struct {
		name     string
		file     string
		format   Format
		accepted int
		want     []wantErr
	}{
		{
			name: "CSV, one bad field per row", file: "reports_bad.csv", format: FormatCSV, accepted: 1,
			want: []wantErr{
				{1, "lat", "not a number"},
				{2, "lon", "must be between -180 and 180"},
				{3, "observed_at", "not an RFC 3339 time"},
				{4, "carrier", `unknown carrier "sfone"`},
				{5, "tech", `unknown technology "6G"`},
				{6, "signal_dbm", "not a finite number"},
				{7, "download_mbps", "must be between 0 and"},
				{8, "no_service", "not a boolean"},
				{9, "source", `unknown source "robot"`},
				{10, "observed_at", "in the future"},
				{11, "", "has 4 fields, header has 9"},
				{12, "lat", "must be between -90 and 90"},
				{14, "lat", "required"},
				{14, "carrier", "required"},
				{15, "observed_at", "not an RFC 3339 time"},
				{15, "signal_dbm", "must be between"},
				{16, "signal_dbm", "not a finite number"},
			},
		},
		{
			name: "GeoJSON", file: "reports.geojson", format: FormatGeoJSON, accepted: 2,
			want: []wantErr{
				{2, "geometry", "LineString is not a Point"},
				{3, "geometry", "missing"},
				{4, "lon", "must be between -180 and 180"},
				{5, "observed_at", "in the future"},
				{6, "carrier", "not a string, number or boolean"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, sum, err := readAll(t, readFixture(t, tc.file), tc.format, ReportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Accepted != tc.accepted || sum.Accepted+sum.Rejected != sum.Read {
				t.Errorf("summary %+v, want %d accepted", sum, tc.accepted)
			}
			for i := 0; i < max(len(sum.Errors), len(tc.want)); i++ {
				if i >= len(sum.Errors) {
					t.Errorf("missing error %+v", tc.want[i])
					continue
				}
				e := sum.Errors[i]
				if i >= len(tc.want) {
					t.Errorf("unexpected error %v", e)
					continue
				}
				w := tc.want[i]
				if e.Row != w.row || e.Field != w.field || !strings.Contains(e.Reason, w.reason) {
					t.Errorf("error %d = %q, want row %d, %s: …%s…", i, e, w.row, w.field, w.reason)
				}
			}
		})
	}
}

func TestReadReportsHeader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string // substring; "" for success
	}{
		{"missing carrier", "lat,lon,observed_at\n10,106,2025-07-01T00:00:00Z\n", "carrier: column missing from header"},
		{"missing lat and observed_at", "latitude_x,lon,carrier\n", "lat: column missing from header; observed_at: column missing"},
		{"aliases", "Latitude,LNG,observed_at,carrier\n10,106,2025-07-01T00:00:00Z,viettel\n", ""},
		{"column twice", "lat,lat,lon,observed_at,carrier\n", "lat: column given twice"},
		{"unknown column", "lat,lon,observed_at,carrier,extra\n10,106,2025-07-01T00:00:00Z,viettel,x\n", "extra: unknown field"},
		{"misspelt column", "lat,lon,observed_at,carrier,Singal_dBm\n", "singal_dbm: unknown field (did you mean signal_dbm?)"},
		{"unknown columns once for the file", "lat,lon,observed_at,carrier,a,b\n" + strings.Repeat("10,106,2025-07-01T00:00:00Z,viettel,1,2\n", 3),
			"a: unknown field; b: unknown field"},
		{"empty unnamed column", "lat,lon,observed_at,carrier,\n10,106,2025-07-01T00:00:00Z,viettel,\n", ""},
		{"empty input", "", "header row is required"},
		{"header only", "lat,lon,observed_at,carrier\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.input, FormatCSV, ReportOptions{})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(err, geo.ErrInvalid):
				t.Errorf("error %v does not match geo.ErrInvalid", err)
			}
		})
	}
}

func TestReadReportsMalformedCSV(t *testing.T) {
	in := "lat,lon,observed_at,carrier\n" +
		"10,106,2025-07-01T00:00:00Z,viettel\n" +
		"10,106,2025-07-01T00:00:00Z,vie\"ttel\n" +
		"10,106,2025-07-01T00:00:00Z,mobifone\n"
	got, sum, err := readAll(t, in, FormatCSV, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].row != 3 || sum.Read != 3 || sum.Rejected != 1 {
		t.Fatalf("got %d reports, summary %+v; want rows 1 and 3 accepted, row 2 rejected", len(got), sum)
	}
	if e := sum.Errors[0]; e.Row != 2 || !strings.Contains(e.Reason, "malformed CSV") {
		t.Errorf("error = %v, want row 2 malformed CSV", e)
	}
}

func TestReadReportsTimes(t *testing.T) {
	ict := time.FixedZone("", 7*3600)
	tests := []struct {
		in   string
		want time.Time // zero: rejected
	}{
		{"2025-07-01T08:30:00+07:00", time.Date(2025, 7, 1, 8, 30, 0, 0, ict)},
		{"2025-07-01T01:30:00Z", time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC)},
		{"2025-07-01t01:30:00z", time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC)},
		{"2025-07-01 08:30:00", time.Date(2025, 7, 1, 8, 30, 0, 0, ict)},
		{"2025-07-01T08:30:00", time.Date(2025, 7, 1, 8, 30, 0, 0, ict)},
		{"2025-07-01T08:30:00.123456789-05:30", time.Date(2025, 7, 1, 8, 30, 0, 123456789, time.FixedZone("", -(5*3600+30*60)))},
		{"2025-07-01T08:30:00.5+0700", time.Date(2025, 7, 1, 8, 30, 0, 5e8, ict)},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2025-02-29T00:00:00Z", time.Time{}},
		{"2025-07-01T24:00:00Z", time.Time{}},
		{"2025-07-01T08:30Z", time.Time{}},
		{"2025-07-01T08:30:00+7", time.Time{}},
		{"2025-07-01T08:30:00.Z", time.Time{}},
		{"01/07/2025 08:30", time.Time{}},
		{"2025-07-01", time.Time{}},
	}
	p := newReportParser(testNow)
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := p.time(tc.in)
			if tc.want.IsZero() {
				if ok {
					t.Errorf("got %v, want rejected", got)
				}
				return
			}
			if !ok || !got.Equal(tc.want) {
				t.Errorf("got %v, %v; want %v", got, ok, tc.want)
			}
			if _, off := got.Zone(); ok && off != func() int { _, o := tc.want.Zone(); return o }() {
				t.Errorf("zone offset %d, want that of %v", off, tc.want)
			}
		})
	}
}

func TestReadReportsMaxErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("lat,lon,observed_at,carrier\n")
	for range 10 {
		b.WriteString("x,y,2025-07-01T00:00:00Z,viettel\n") // two errors each
	}
	_, sum, err := readAll(t, b.String(), FormatCSV, ReportOptions{MaxErrors: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Errors) != 5 || !sum.Truncated || sum.Rejected != 10 || sum.Read != 10 {
		t.Errorf("got %d errors, truncated %v, rejected %d, read %d; want 5, true, 10, 10", len(sum.Errors), sum.Truncated, sum.Rejected, sum.Read)
	}
}

func TestReadReportsCallbackError(t *testing.T) {
	stop := errors.New("stop")
	in := readFixture(t, "reports_good.csv")
	calls := 0
	sum, err := ReadReports(context.Background(), strings.NewReader(in), FormatCSV, ReportOptions{Now: testNow}, func(int, *geo.Report) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 || sum.Accepted != 1 || sum.Read != 1 {
		t.Errorf("err %v, calls %d, summary %+v; want stop after 2 calls, 1 accepted", err, calls, sum)
	}
}

func TestReadReportsGeoJSONShapes(t *testing.T) {
	const feat = `{"type":"Feature","geometry":{"type":"Point","coordinates":[106,10]},"properties":{"observed_at":"2025-07-01T00:00:00Z","carrier":"viettel"}}`
	tests := []struct {
		name     string
		input    string
		accepted int
		wantErr  bool
	}{
		{"single feature", feat, 1, false},
		{"collection", `{"type":"FeatureCollection","features":[` + feat + "," + feat + `]}`, 2, false},
		{"features before type", `{"features":[` + feat + `],"type":"FeatureCollection"}`, 1, false},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, 0, false},
		{"not JSON", "lat,lon\n1,2\n", 0, true},
		{"a geometry", `{"type":"Point","coordinates":[1,2]}`, 0, true},
		{"truncated", `{"type":"FeatureCollection","features":[` + feat, 1, true},
		{"feature is a number", `{"type":"FeatureCollection","features":[1,` + feat + `]}`, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, sum, err := readAll(t, tc.input, FormatGeoJSON, ReportOptions{})
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
			if sum.Accepted != tc.accepted {
				t.Errorf("accepted %d, want %d (%+v)", sum.Accepted, tc.accepted, sum)
			}
		})
	}
}

func TestReportFormat(t *testing.T) {
	for path, want := range map[string]Format{
		"a.csv": FormatCSV, "a.TXT": FormatCSV, "a.geojson": FormatGeoJSON, "x/a.JSON": FormatGeoJSON, "noext": FormatCSV,
	} {
		if got := ReportFormat(path); got != want {
			t.Errorf("ReportFormat(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestReadReportsUnknownColumnOnce(t *testing.T) {
	in := "lat,lon,observed_at,carrier,singal_dbm\n" + strings.Repeat("10,106,2025-07-01T00:00:00Z,viettel,-110\n", 50)
	got, sum, err := readAll(t, in, FormatCSV, ReportOptions{})
	es := geo.AsFieldErrors(err)
	if len(es) != 1 || es[0].Field != "singal_dbm" || es[0].Row != 0 || es[0].Reason != "unknown field (did you mean signal_dbm?)" {
		t.Fatalf("error %v, want one header error naming singal_dbm", err)
	}
	if len(got) != 0 || sum.Read != 0 || len(sum.Errors) != 0 {
		t.Errorf("rows read despite the header error: %d reports, summary %+v", len(got), sum)
	}
}

func TestReadReportsUnnamedColumn(t *testing.T) {
	in := "lat,lon,observed_at,carrier,\n" +
		"10,106,2025-07-01T00:00:00Z,viettel,\n" +
		"10,106,2025-07-01T00:00:00Z,viettel,-110\n" +
		"10,106,2025-07-01T00:00:00Z,viettel,  \n"
	got, sum, err := readAll(t, in, FormatCSV, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].row != 1 || got[1].row != 3 {
		t.Fatalf("accepted %d reports, want rows 1 and 3 (%+v)", len(got), sum)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Row != 2 || !strings.Contains(sum.Errors[0].Reason, "column 5, which has no name") {
		t.Errorf("errors %v, want row 2 naming column 5", sum.Errors)
	}
}

// TestGeoJSONWithBOM: a GeoJSON file that starts with a UTF-8 byte-order
// mark reads like the same file without it.
func TestGeoJSONWithBOM(t *testing.T) {
	doc := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.1,10.5]},"properties":{"carrier":"viettel","tech":"4G","signal_dbm":-112,"observed_at":"2026-10-01T08:00:00+07:00","note":"Ấp Bình Hòa"}}]}`
	for _, in := range []string{doc, "\uFEFF" + doc} {
		var got []geo.Report
		sum, err := ReadReports(context.Background(), strings.NewReader(in), FormatGeoJSON, ReportOptions{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
			func(_ int, r *geo.Report) error { got = append(got, *r); return nil })
		if err != nil {
			t.Fatalf("BOM %v: %v", strings.HasPrefix(in, "\uFEFF"), err)
		}
		if sum.Accepted != 1 || len(got) != 1 || got[0].Note != "Ấp Bình Hòa" {
			t.Errorf("BOM %v: %+v, %v", strings.HasPrefix(in, "\uFEFF"), sum, got)
		}
	}
}

// TestReadReportsManyBatches reads a file of many batches (see
// csvBatch) with bad rows of every kind spread through it, and checks
// that the reports come in file order with their rows, that every
// problem is listed at its row, in order, and that a callback error or
// a cancelled context stops the reading at once, whichever batch the
// workers have reached.
func TestReadReportsManyBatches(t *testing.T) {
	const n = 5*csvBatchRows + 17
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,note\n")
	line := 1 // the header's
	var wantIDs []string
	var wantRows, badRows []int
	for i := range n {
		line++
		id := fmt.Sprintf("r%05d", i)
		switch {
		case i%701 == 3:
			fmt.Fprintf(&b, "%s,north,106.1,2025-07-01T08:00:00+07:00,viettel,\n", id)
			badRows = append(badRows, line-1)
		case i%977 == 5:
			fmt.Fprintf(&b, "%s,10.5,106.1,2025-07-01T08:00:00+07:00\n", id) // too few fields
			badRows = append(badRows, line-1)
		case i%1500 == 7:
			// A quoted note over two lines: one row, two lines.
			fmt.Fprintf(&b, "%s,10.5,106.1,2025-07-01T08:00:00+07:00,mobifone,\"Ấp Bình Hòa\nkhông có sóng\"\n", id)
			wantIDs, wantRows = append(wantIDs, id), append(wantRows, line-1)
			line++
		default:
			fmt.Fprintf(&b, "%s,10.5,106.1,2025-07-01T08:00:00+07:00,vinaphone,sóng yếu %d\n", id, i)
			wantIDs, wantRows = append(wantIDs, id), append(wantRows, line-1)
		}
	}
	got, sum, err := readAll(t, b.String(), FormatCSV, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != n || sum.Accepted != len(wantIDs) || sum.Rejected != len(badRows) {
		t.Fatalf("summary %+v; want %d read, %d accepted, %d rejected", sum, n, len(wantIDs), len(badRows))
	}
	if len(got) != len(wantIDs) {
		t.Fatalf("%d reports, want %d", len(got), len(wantIDs))
	}
	for i, g := range got {
		if g.rep.ID != wantIDs[i] || g.row != wantRows[i] {
			t.Fatalf("report %d: %s at row %d, want %s at row %d", i, g.rep.ID, g.row, wantIDs[i], wantRows[i])
		}
	}
	var errRows []int
	for _, e := range sum.Errors {
		errRows = append(errRows, e.Row)
	}
	if !reflect.DeepEqual(errRows, badRows) {
		t.Errorf("problems at rows %v, want %v", errRows, badRows)
	}
	if g := got[len(got)-1].rep; !strings.HasPrefix(g.Note, "sóng yếu") {
		t.Errorf("last note %q", g.Note)
	}

	stop := errors.New("stop")
	for _, at := range []int{1, csvBatchRows, 3*csvBatchRows + 1} {
		calls := 0
		sum, err := ReadReports(context.Background(), strings.NewReader(b.String()), FormatCSV, ReportOptions{Now: testNow}, func(int, *geo.Report) error {
			calls++
			if calls == at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != at || sum.Accepted != at-1 {
			t.Errorf("stop at %d: err %v, %d calls, summary %+v", at, err, calls, sum)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err = ReadReports(ctx, strings.NewReader(b.String()), FormatCSV, ReportOptions{Now: testNow}, func(int, *geo.Report) error {
		if calls++; calls == 2*csvBatchRows {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls >= n-len(badRows) {
		t.Errorf("cancelled: err %v after %d calls", err, calls)
	}
}
