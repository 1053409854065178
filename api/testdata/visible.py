#!/usr/bin/env python3
"""Post reports to a running gapmap one after another and measure, for each,
the POST's own time and the delay from its 201 until the report's area in
/ogc/collections/areas/items/{code} counts it and the report's OGC item
answers (from the start of the round of reads that finds both).

Usage: visible.py BASE_URL TOKEN REPORTS.csv N

The reports are posted at the places of every 997th row of REPORTS.csv
(the first 5,000 such rows), as weak 4G reports of the row's carrier an
hour old, in a random order (seed 1); TOKEN is an admin's API token
(gapmap token create). It prints the p50 and p99 of both delays. The
service writes each report to its store, so post to a copy."""
import csv, http.client, json, random, sys, time, urllib.parse

base, token, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
H = {"Authorization": "Bearer " + token}

def get(p):
    conn.request("GET", p, headers=H)
    r = conn.getresponse()
    return r.status, r.read()

def inside(pt, ring):
    x, y = pt; c = False
    for i in range(len(ring) - 1):
        (x1, y1), (x2, y2) = ring[i], ring[i + 1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            c = not c
    return c

def area_of(lon, lat):
    st, b = get("/ogc/collections/areas/items?bbox=%f,%f,%f,%f&limit=50" % (lon, lat, lon, lat))
    for f in json.loads(b)["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            if inside((lon, lat), poly[0]) and not any(inside((lon, lat), h) for h in poly[1:]):
                return str(f["id"]), f["properties"]
    return None, None

rows = []
with open(path) as f:
    r = csv.DictReader(f)
    for i, row in enumerate(r):
        if i % 997 == 0:
            rows.append(row)
        if len(rows) >= 5000:
            break
random.seed(1)
post, vis = [], []
while len(post) < n:
    row = random.choice(rows)
    lon, lat = float(row["lon"]), float(row["lat"])
    code, props = area_of(lon, lat)
    if code is None:
        continue
    before = props["reports"]
    body = json.dumps({"lat": lat, "lon": lon, "observed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
                       "carrier": row["carrier"], "tech": "4G", "signal_dbm": -121})
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/reports", body=body, headers=dict(H, **{"Content-Type": "application/json"}))
    r = conn.getresponse(); rb = r.read()
    t1 = time.perf_counter()
    if r.status != 201:
        sys.exit("post: %d %s" % (r.status, rb[:300]))
    rid = json.loads(rb)["id"]
    while True:
        ts = time.perf_counter()
        st, b = get("/ogc/collections/areas/items/" + urllib.parse.quote(code))
        ok = st == 200 and json.loads(b)["properties"]["reports"] >= before + 1
        if ok:
            st, _ = get("/ogc/collections/reports/items/" + urllib.parse.quote(rid))
            ok = st == 200
        if ok:
            break
        time.sleep(0.0005)
    post.append(t1 - t0); vis.append(max(0.0, ts - t1))
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(len(v) * p))] * 1000
print("posts %d: POST p50 %.1f ms p99 %.1f ms; visible after 201 p50 %.1f ms p99 %.1f ms max %.1f ms" %
      (n, pct(post, .5), pct(post, .99), pct(vis, .5), pct(vis, .99), max(vis) * 1000))
