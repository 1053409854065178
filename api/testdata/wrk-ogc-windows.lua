-- wrk script: random zoom-15 windows through OGC API - Features over the benchmark city.
-- wrk -t1 -c64 -d15s --latency -s api/testdata/wrk-ogc-windows.lua http://127.0.0.1:8080/
math.randomseed(7)
local x0, y0, side = 106.6, 10.7, 0.2
local tile = 360 / 2^15
request = function()
  local x = x0 + math.random() * (side - tile)
  local y = y0 + math.random() * (side - tile)
  return wrk.format("GET", string.format("/ogc/collections/areas/items?bbox=%.6f,%.6f,%.6f,%.6f", x, y, x + tile, y + tile))
end
