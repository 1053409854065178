package geo

import (
	"math"
	"strings"
	"testing"
)

func f32(v float64) float32 { return float32(v) }

var nan32 = float32(math.NaN())

func TestRulesIsWeak(t *testing.T) {
	r := DefaultRules()
	tests := []struct {
		name string
		obs  Obs
		want bool
	}{
		{"no service flag", Obs{Tech: Tech4G, Flags: FlagNoService, SignalDBm: nan32, DownMbps: nan32}, true},
		{"tech none", Obs{Tech: TechNone, SignalDBm: nan32, DownMbps: nan32}, true},
		{"2G only is weak whatever the level", Obs{Tech: Tech2G, SignalDBm: f32(-60), DownMbps: nan32}, true},
		{"3G only is weak", Obs{Tech: Tech3G, SignalDBm: f32(-70), DownMbps: nan32}, true},
		{"4G at -110 is usable (threshold is strict)", Obs{Tech: Tech4G, SignalDBm: f32(-110), DownMbps: nan32}, false},
		{"4G at -110.5 is weak", Obs{Tech: Tech4G, SignalDBm: f32(-110.5), DownMbps: nan32}, true},
		{"5G RSRP -115 weak", Obs{Tech: Tech5G, SignalDBm: f32(-115), DownMbps: nan32}, true},
		{"4G good level slow download", Obs{Tech: Tech4G, SignalDBm: f32(-90), DownMbps: f32(4.9)}, true},
		{"4G 5 Mbps is usable", Obs{Tech: Tech4G, SignalDBm: f32(-90), DownMbps: f32(5)}, false},
		{"5G 6 Mbps is weak (7 needed)", Obs{Tech: Tech5G, SignalDBm: nan32, DownMbps: f32(6)}, true},
		{"unknown tech level read as RSRP", Obs{SignalDBm: f32(-112), DownMbps: nan32}, true},
		{"4G with nothing measured", Obs{Tech: Tech4G, SignalDBm: nan32, DownMbps: nan32}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.IsWeak(&tc.obs); got != tc.want {
				t.Errorf("IsWeak(%+v) = %v, want %v", tc.obs, got, tc.want)
			}
		})
	}
	t.Run("legacy not weak when configured", func(t *testing.T) {
		r := DefaultRules()
		r.LegacyIsWeak = false
		o := Obs{Tech: Tech3G, SignalDBm: f32(-80), DownMbps: nan32}
		if r.IsWeak(&o) {
			t.Error("3G at -80 dBm RSCP with legacy_is_weak=false: got weak, want usable")
		}
		o.SignalDBm = f32(-101)
		if !r.IsWeak(&o) {
			t.Error("3G at -101 dBm RSCP: got usable, want weak (RSCP threshold -100)")
		}
	})
}

func TestReadConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(Config) bool
	}{
		{"empty object keeps defaults", `{}`, "", func(c Config) bool { return c.Rules.RSRPMinDBm == -110 && c.Holes.Res == 10 }},
		{"override one threshold", `{"rules":{"rsrp_min_dbm":-105}}`, "", func(c Config) bool {
			return c.Rules.RSRPMinDBm == -105 && c.Rules.RSCPMinDBm == -100
		}},
		{"unknown field", `{"rules":{"rsrp_min":-105}}`, `unknown field "rsrp_min"`, nil},
		{"out of range", `{"rules":{"rsrp_min_dbm":-300}}`, "rules.rsrp_min_dbm: must be between -140 and -20", nil},
		{"bad market share", `{"market_share":{"viettel":2}}`, "market_share.viettel: must be between 0 and 1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ReadConfig(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadConfig(%s) error = %v, want containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadConfig(%s): %v", tc.in, err)
			}
			if !tc.check(c) {
				t.Errorf("ReadConfig(%s) = %+v", tc.in, c)
			}
		})
	}
}
