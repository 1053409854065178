-- wrk script: random zoom-15 windows over the benchmark city (106.6–106.8 E, 10.7–10.9 N).
-- wrk -t1 -c64 -d15s --latency -s api/testdata/wrk-windows.lua http://127.0.0.1:8080/
-- The windows go to the areas layer; WINDOWS_PATH=/ogc/collections/areas/items sends them
-- through OGC API - Features instead.
local path = os.getenv("WINDOWS_PATH") or "/api/v1/layers/areas"
math.randomseed(7)
local x0, y0, side = 106.6, 10.7, 0.2
local tile = 360 / 2^15
request = function()
  local x = x0 + math.random() * (side - tile)
  local y = y0 + math.random() * (side - tile)
  return wrk.format("GET", string.format("%s?bbox=%.6f,%.6f,%.6f,%.6f", path, x, y, x + tile, y + tile))
end
