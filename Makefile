# gapmap — finds where people cannot get a usable mobile signal.
GO        ?= go
BIN       := bin/gapmap
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
OUT       ?= out
SEED      ?= 1
FUZZTIME  ?= 30s
BENCHTIME ?= 1x
export CGO_ENABLED := 1

.PHONY: help run build test web web-test race bench bench-scale fuzz lint clean demo accuracy

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

# Leaflet and its plugins, pinned in web/package-lock.json, copied into the
# git-ignored folder that web/embed.go embeds.
VENDOR := web/static/vendor
VENDOR_FILES := \
	web/node_modules/leaflet/dist/leaflet.js \
	web/node_modules/leaflet/dist/leaflet.css \
	web/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	web/node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	web/node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css

web: web/node_modules/.package-lock.json ## copy Leaflet and its plugins from npm into web/static/vendor
	mkdir -p $(VENDOR)/images
	cp $(VENDOR_FILES) $(VENDOR)/
	cp web/node_modules/leaflet/dist/images/*.png $(VENDOR)/images/

# npm writes node_modules/.package-lock.json on install: reinstall only
# when the folder is missing or the lockfile is newer.
web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	npm ci --prefix web --no-audit --no-fund
	touch $@

build: web ## build bin/gapmap (with the map page)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gapmap

run: build ## start the service on http://127.0.0.1:8080 (an empty store gets the demo province)
	$(BIN) serve

demo: build ## generate the synthetic demo province, analyse it into ./out and score it against the truth
	$(BIN) demo --out $(OUT)/demo --seed $(SEED)
	$(BIN) analyze --areas $(OUT)/demo/areas.geojson --reports $(OUT)/demo/reports.csv --teams $(OUT)/demo/teams.csv --out $(OUT)/analysis
	$(BIN) eval --truth $(OUT)/demo --holes $(OUT)/analysis/holes.geojson

# The accuracy grid: held-out seeds (the method was tuned on seed 1), no
# drive tests, report bias 2×, 4× and 6×, over real 2025 communes: dense
# (50 contiguous Tây Ninh communes, 2,000 reports each) and sparse (all of
# Cà Mau, 60,000 reports, about 8 per km²). Each run is simulated,
# analysed and scored into $(ACC_OUT)/CASE-biasB-seedS/, its scores
# appended to runs.jsonl; eval-table prints the Markdown table (also in
# table.md). Not part of make test: it takes minutes.
COMMUNES_2025 ?= ../shared/data/vn-communes-2025
ACC_OUT       ?= $(OUT)/accuracy
ACC_CASES     ?= dense sparse
ACC_BIASES    ?= 2 4 6
ACC_SEEDS     ?= 11 12 13
ACC_dense     := --areas $(COMMUNES_2025)/communes_2025_tay_ninh_80.geojson --communes 50 --reports 100000
ACC_sparse    := --areas $(COMMUNES_2025)/communes_2025_ca_mau_96.geojson --reports 60000

define newline


endef

# acc-run CASE,BIAS,SEED: one run of the grid.
acc-run = d=$(ACC_OUT)/$(1)-bias$(2)-seed$(3); \
	$(BIN) demo --out $$d/demo --seed $(3) --bias $(2) --drive-share 0 $(ACC_$(1)) && \
	$(BIN) analyze --quiet --areas $$d/demo/areas.geojson --reports $$d/demo/reports.csv --teams $$d/demo/teams.csv --out $$d/analysis >$$d/analyze.log && \
	$(BIN) eval --format json --label $(1) --truth $$d/demo --holes $$d/analysis/holes.geojson >>$(ACC_OUT)/runs.jsonl

accuracy: build ## score the analysis over real communes: dense and sparse × report bias 2, 4, 6 × 3 held-out seeds, no drive tests
	@test -d $(COMMUNES_2025) || { echo "accuracy: $(COMMUNES_2025) not found (set COMMUNES_2025)" >&2; exit 1; }
	rm -rf $(ACC_OUT) && mkdir -p $(ACC_OUT)
	$(foreach c,$(ACC_CASES),$(foreach b,$(ACC_BIASES),$(foreach s,$(ACC_SEEDS),@$(call acc-run,$(c),$(b),$(s))$(newline))))
	@$(BIN) eval-table $(ACC_OUT)/runs.jsonl >$(ACC_OUT)/table.md && cat $(ACC_OUT)/table.md

test: web ## vet and run all tests, then the browser tests (what CI runs)
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(MAKE) web-test

# The packages with goroutines, locks or shared state, under the race
# detector (what CI runs besides make test): the service core, the HTTP
# layer, the stores, the parallel index. The engine's parallel loops are
# covered through the service's and the API's tests; its own tests are
# long single-threaded checks that the detector would slow tenfold.
RACE_PKGS := ./api/... ./data/... ./geo/service/... ./geo/index/... ./cmd/...

race: ## run the tests of the concurrent packages under the race detector
	$(GO) test -count=1 -race -timeout 20m $(RACE_PKGS)

web-test: build ## run the page's tests in headless Chromium against bin/gapmap
	GAPMAP_BIN=$(CURDIR)/$(BIN) node --test web/test/

bench: build ## run the hot-path benchmarks at province sizes, then analyze 1M demo reports, import them, and load them into PostGIS with COPY + GiST for reference
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./geo/... ./data/... ./api/
	$(BIN) demo --out $(OUT)/bench --seed $(SEED) --reports 1000000
	/usr/bin/env time -f '%e s wall, %M KB peak RSS' $(BIN) analyze --quiet --areas $(OUT)/bench/areas.geojson --reports $(OUT)/bench/reports.csv --teams $(OUT)/bench/teams.csv --out $(OUT)/bench-analysis
	$(BIN) eval --truth $(OUT)/bench --holes $(OUT)/bench-analysis/holes.geojson
	rm -f $(OUT)/bench-import.gpkg $(OUT)/bench-import.gpkg-wal $(OUT)/bench-import.gpkg-shm
	$(BIN) import areas --db $(OUT)/bench-import.gpkg $(OUT)/bench/areas.geojson
	/usr/bin/env time -f '%e s wall, %M KB peak RSS, %O × 512 bytes written to disk' $(BIN) import reports --db $(OUT)/bench-import.gpkg $(OUT)/bench/reports.csv
	GAPMAP_BENCH_REPORTS=$(CURDIR)/$(OUT)/bench/reports.csv $(GO) test -run '^$$' -bench '^BenchmarkImportReference$$' -benchtime 1x -timeout 30m ./data/postgis
	$(MAKE) bench-scale

# bench-scale: `gapmap analyze` at national scale beside cmd/refjoin, the
# bare spatial join (parse, R-tree of area boxes, Z-sorted points, a
# crossing-number test on 2 workers, counts per area) over the same
# files; prints both runs' wall time and peak RSS and analyze's ratios.
SCALE_HAMLETS ?= 10000
SCALE_REPORTS ?= 1000000
SCALE_DIR     := $(OUT)/scale-$(SCALE_HAMLETS)x$(SCALE_REPORTS)
TIMEFMT       := %e %M

bench-scale: build ## analyze SCALE_HAMLETS × SCALE_REPORTS (10k × 1M) beside the reference join; wall and peak RSS ratios
	$(GO) build -o bin/refjoin ./cmd/refjoin
	test -f $(SCALE_DIR)/reports.csv || $(BIN) demo --hamlets $(SCALE_HAMLETS) --reports $(SCALE_REPORTS) --seed $(SEED) --out $(SCALE_DIR)
	/usr/bin/env time -f '$(TIMEFMT)' -o $(SCALE_DIR)/refjoin.time bin/refjoin $(SCALE_DIR)/areas.geojson $(SCALE_DIR)/reports.csv >$(SCALE_DIR)/refjoin.out
	/usr/bin/env time -f '$(TIMEFMT)' -o $(SCALE_DIR)/analyze.time $(BIN) analyze --quiet --areas $(SCALE_DIR)/areas.geojson --reports $(SCALE_DIR)/reports.csv --teams $(SCALE_DIR)/teams.csv --out $(SCALE_DIR)/analysis >/dev/null
	@read rt rm <$(SCALE_DIR)/refjoin.time; read at am <$(SCALE_DIR)/analyze.time; \
	 awk -v rt=$$rt -v rm=$$rm -v at=$$at -v am=$$am -v n='$(SCALE_HAMLETS) areas × $(SCALE_REPORTS) reports' 'BEGIN { \
	   printf "%s\n  refjoin  %7.2f s wall %8.0f MB peak RSS\n  analyze  %7.2f s wall %8.0f MB peak RSS\n  ratio    %7.2f×        %8.2f×\n", \
	     n, rt, rm/1024, at, am/1024, at/rt, am/rm }'

fuzz: ## fuzz the report and area readers and the GeoPackage geometry decoder (FUZZTIME=30s each)
	$(GO) test -run '^$$' -fuzz '^FuzzReadReportsCSV$$' -fuzztime $(FUZZTIME) ./geo/ingest
	$(GO) test -run '^$$' -fuzz '^FuzzReadReportsGeoJSON$$' -fuzztime $(FUZZTIME) ./geo/ingest
	$(GO) test -run '^$$' -fuzz '^FuzzReadAreasGeoJSON$$' -fuzztime $(FUZZTIME) ./data
	$(GO) test -run '^$$' -fuzz '^FuzzReadAreasShapefile$$' -fuzztime $(FUZZTIME) ./data
	$(GO) test -run '^$$' -fuzz '^FuzzReadAreasZip$$' -fuzztime $(FUZZTIME) ./data
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeGeom$$' -fuzztime $(FUZZTIME) ./data/gpkg

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean: ## remove build output, generated data and the vendored web files
	rm -rf bin $(OUT) web/node_modules
	find $(VENDOR) -mindepth 1 ! -name .keep -delete
