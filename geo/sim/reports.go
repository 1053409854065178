package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// How people report. Staff (commune officials) and teams often test every
// carrier at one spot with dual-SIM phones (a survey); app users report on
// their own carrier, more often from indoors.
type sourceModel struct {
	src      geo.Source
	share    float64 // of non-drive reports
	survey   float64 // probability a report is a four-carrier survey
	indoor   float64 // probability of being indoors
	signal   float64 // probability the signal level is given
	download float64 // probability a speed test is attached
}

var sourceModels = []sourceModel{
	{geo.SourceStaff, 0.15, 0.5, 0.15, 0.85, 0.4},
	{geo.SourceTeam, 0.35, 0.35, 0.25, 0.75, 0.3},
	{geo.SourceApp, 0.50, 0, 0.5, 0.7, 0.5},
}

var weakNotes = []string{
	"Mất sóng khi vào trong nhà",
	"Sóng yếu, gọi điện hay bị rớt",
	"Không mở được ứng dụng VNeID",
	"Không thanh toán QR được ở chợ",
	"Chỉ có 3G, tải rất chậm",
	"Khu vực ruộng, không có sóng",
	`Người dân phản ánh "vùng lõm" từ lâu`,
}

func (m *model) nReports() int {
	if m.opt.Reports > 0 {
		return m.opt.Reports
	}
	if m.w.synthetic {
		return 60000
	}
	var pop float64
	for i := range m.w.Areas {
		pop += float64(m.w.Areas[i].Population)
	}
	return int(min(400000, max(2000, pop/40)))
}

// measure is what a phone on carrier c shows at (x, y) with lossDB of
// building penetration: the technology it falls back to, the level it
// reads (with fading), and a speed test.
func (m *model) measure(rng *rand.Rand, c geo.Carrier, x, y, lossDB float64, sm sourceModel, dense bool) geo.Report {
	r := m.rsrp(c, x, y) - lossDB + rng.NormFloat64()*measureSigma
	rep := geo.Report{Carrier: c, Source: sm.src}
	lon, lat := m.fr.toLL(x, y)
	rep.Lon, rep.Lat = round6(lon), round6(lat)
	level := func(v float64) {
		if rng.Float64() < sm.signal {
			v = math.Round(min(geo.MaxSignalDBm, max(geo.MinSignalDBm, v)))
			rep.SignalDBm = &v
		}
	}
	switch {
	case r >= -118:
		rep.Tech = geo.Tech4G
		if dense && r > -95 && c != geo.Vietnamobile && rng.Float64() < 0.25 {
			rep.Tech = geo.Tech5G
		}
		level(r)
		if rng.Float64() < sm.download {
			mean := 60 / (1 + math.Exp(-(r+100)/5))
			if dense {
				mean *= 0.4 + 0.6*rng.Float64() // busy cells in town
			}
			if rep.Tech == geo.Tech5G {
				mean *= 3
			}
			d := math.Round(mean*math.Exp(0.35*rng.NormFloat64())*10) / 10
			u := math.Round(d/3*10) / 10
			rep.DownloadMbps, rep.UploadMbps = &d, &u
		}
	case r >= -128:
		if rng.Float64() < 0.6 {
			rep.Tech = geo.Tech3G
			level(r + 8) // RSCP
		} else {
			rep.Tech = geo.Tech2G
			level(r + 25) // RSSI
		}
	default:
		rep.NoService = true
		if rng.Float64() < 0.7 {
			rep.Tech = geo.TechNone
		}
	}
	return rep
}

// reports generates the weak-signal reports: people at home or around
// their village report, those in a weak spot ReportBias times more often
// than those with good service; plus drive tests along roads (DriveShare
// of the reports).
func (m *model) reports(rng, drng *rand.Rand) {
	n := m.nReports()
	// Drive tests come four carriers to a point; never more than n.
	nDrive := min(int(math.Round(float64(n)*m.opt.DriveShare/4)), n/4) * 4
	if len(m.roadsXY) == 0 {
		nDrive = 0
	}
	rules := geo.DefaultRules()
	start := m.opt.End.AddDate(0, -m.opt.Months, 0)
	days := int(m.opt.End.Sub(start).Hours() / 24)
	when := func(rng *rand.Rand) time.Time {
		d := rng.IntN(max(1, days))
		sec := 6*3600 + rng.IntN(15*3600)
		return start.Add(time.Duration(d)*24*time.Hour + time.Duration(sec)*time.Second)
	}
	appUsers := max(20, n/8)
	reporter := func(sm sourceModel, area int) string {
		a := &m.w.Areas[area]
		switch sm.src {
		case geo.SourceStaff:
			p := a.ParentCode
			if p == "" || a.Level != geo.LevelHamlet {
				p = a.Code
			}
			return fmt.Sprintf("cb-%s-%d", p, 1+rng.IntN(2))
		case geo.SourceTeam:
			return fmt.Sprintf("tcns-%s-%d", a.Code, 1+rng.IntN(6))
		}
		u := rng.Float64()
		return fmt.Sprintf("u%05d", int(float64(appUsers)*u*u))
	}
	weak := func(r *geo.Report) bool {
		o := r.ToObs(nil)
		return rules.IsWeak(&o)
	}
	// Drive tests first: they may yield fewer points than planned (roads
	// cross water), and ordinary reports make up the rest, so there are
	// exactly n reports.
	drive := m.driveTests(drng, nDrive, when)
	out := make([]geo.Report, 0, n+4)
	for len(out) < n-len(drive) {
		x, y, area := m.home(rng)
		u := rng.Float64()
		sm := sourceModels[len(sourceModels)-1]
		for _, s := range sourceModels {
			if u < s.share {
				sm = s
				break
			}
			u -= s.share
		}
		loss := 0.0
		if rng.Float64() < sm.indoor {
			loss = rng.Float64() * 10
		}
		var batch []geo.Report
		if rng.Float64() < sm.survey {
			for _, c := range geo.Carriers {
				batch = append(batch, m.measure(rng, c, x, y, loss, sm, m.dense[area]))
			}
		} else {
			c := m.pickCarrier(rng)
			batch = append(batch, m.measure(rng, c, x, y, loss, sm, m.dense[area]))
		}
		anyWeak := false
		for i := range batch {
			anyWeak = anyWeak || weak(&batch[i])
		}
		if !anyWeak && rng.Float64() >= 1/m.opt.ReportBias {
			continue
		}
		at := when(rng)
		who := reporter(sm, area)
		for i := range batch {
			batch[i].ObservedAt = at
			batch[i].Reporter = who
			if weak(&batch[i]) && rng.Float64() < 0.2 {
				batch[i].Note = weakNotes[rng.IntN(len(weakNotes))]
			}
		}
		out = append(out, batch...)
	}
	out = append(out[:n-len(drive)], drive...)
	for i := range out {
		out[i].ID = fmt.Sprintf("sim-%07d", i+1)
	}
	m.w.Reports = out
}

func (m *model) pickCarrier(rng *rand.Rand) geo.Carrier {
	u := rng.Float64()
	for _, c := range geo.Carriers {
		if u < carrierModels[c].share {
			return c
		}
		u -= carrierModels[c].share
	}
	return geo.Viettel
}

// driveTests samples the roads evenly: n reports, four carriers per point.
func (m *model) driveTests(rng *rand.Rand, n int, when func(*rand.Rand) time.Time) []geo.Report {
	if n == 0 {
		return nil
	}
	var total float64
	for _, l := range m.roadsXY {
		for k := 1; k < len(l); k++ {
			total += math.Hypot(l[k][0]-l[k-1][0], l[k][1]-l[k-1][1])
		}
	}
	step := total / float64(n/4)
	sm := sourceModel{src: geo.SourceDriveTest, signal: 1, download: 1}
	var out []geo.Report
	for r, l := range m.roadsXY {
		day := when(rng)
		t := 0
		carry := rng.Float64() * step
		for k := 1; k < len(l) && len(out) < n; k++ {
			ax, ay, bx, by := l[k-1][0], l[k-1][1], l[k][0], l[k][1]
			seg := math.Hypot(bx-ax, by-ay)
			for s := carry; s < seg && len(out) < n; s += step {
				x, y := ax+(bx-ax)*s/seg, ay+(by-ay)*s/seg
				carry = s + step - seg
				if !m.onLand(x, y) {
					continue
				}
				at := day.Add(time.Duration(t) * 20 * time.Second)
				t++
				for _, c := range geo.Carriers {
					rep := m.measure(rng, c, x, y, 0, sm, false)
					rep.ObservedAt = at
					rep.Reporter = fmt.Sprintf("drive-%02d", r+1)
					out = append(out, rep)
				}
			}
			if carry < 0 {
				carry = 0
			}
		}
	}
	return out
}

// teams forms the community digital-technology teams: one per hamlet
// (most hamlets have one), or several per commune when the areas are
// communes, 4–12 members each, based in a village.
func (m *model) teams(rng *rand.Rand) {
	for i := range m.w.Areas {
		a := &m.w.Areas[i]
		hh := a.Households
		if hh == 0 {
			hh = int64(math.Round(float64(a.Population) / 3.6))
		}
		k := 1
		if a.Level != geo.LevelHamlet {
			k = int(min(25, max(2, float64(hh)/700)))
		} else if rng.Float64() < 0.08 {
			continue // no team formed yet
		}
		for t := 0; t < k; t++ {
			team := geo.Team{
				ID:       fmt.Sprintf("T-%s", a.Code),
				Name:     fmt.Sprintf("Tổ công nghệ số cộng đồng %s", a.Name),
				AreaCode: a.Code,
				Members:  4 + rng.IntN(9),
			}
			if k > 1 {
				team.ID = fmt.Sprintf("T-%s-%02d", a.Code, t+1)
				team.Name = fmt.Sprintf("Tổ công nghệ số cộng đồng số %d, %s", t+1, a.Name)
			}
			// Reach varies a lot: some teams have barely started.
			share := 0.05 + 0.8*rng.Float64()*rng.Float64()
			team.HouseholdsReached = int64(math.Round(float64(hh) / float64(k) * share))
			if rng.Float64() < 0.85 {
				var x, y float64
				if cl := m.clusters[i]; len(cl) > 0 {
					c := cl[t%len(cl)]
					x, y = c.x+rng.NormFloat64()*100, c.y+rng.NormFloat64()*100
				} else {
					var ok bool
					if x, y, ok = m.uniformIn(rng, i, 50); !ok {
						m.w.Teams = append(m.w.Teams, team)
						continue
					}
				}
				lon, lat := m.fr.toLL(x, y)
				team.Lon, team.Lat, team.HasLocation = round6(lon), round6(lat), true
			}
			m.w.Teams = append(m.w.Teams, team)
		}
	}
}
