-- wrk script of the HTTP load bench (benches/http/run.sh): JSON searches from a query list.
--
--   wrk -t16 -c16 -d25s --latency -s benches/http/search.lua http://127.0.0.1:PORT \
--       -- QUERIES_FILE TENANT [FACETS]
--
-- QUERIES_FILE has lines "KIND<TAB>FACETS<TAB>QUERY" ('#' lines are comments); each becomes
-- GET /api/v1/TENANT/search?q=<QUERY, percent-encoded as UTF-8>&per_page=20&facets=true|false.
-- FACETS: "mix" (default: as the file says), "off" (all false) or "on" (all true).
--
-- Requests go round robin through the list, each wrk thread starting at its own offset, so a
-- run is deterministic in what it asks (not in the order the server sees across threads).
-- Every non-2xx response is counted; done() prints one machine-readable RESULT line (times
-- in microseconds) after wrk's own report.
--
-- Two sets of latency figures, because wrk 4's own are not per-request latencies: before
-- it reports (and before done() sees them), wrk "corrects for coordinated omission"
-- (stats_correct in wrk.c): each latency L longer than the mean interval between a
-- connection's requests adds synthetic samples L - i, L - 2i, ... With a mix of 0.5 ms
-- searches and 100 ms facet searches that multiplies the slow ones and moves every
-- percentile up (at 1 connection, p90 49 ms where no more than 10% of the requests took
-- over 1 ms). So the script also times each request itself (clock_gettime through LuaJIT's
-- FFI, from request() to response()) into a histogram (1% resolution) and prints those
-- percentiles as raw_*. Pairing a response with its request needs one connection per wrk
-- thread (-t equal to -c); with more the raw figures are not printed (raw_requests=0).

local ffi = require("ffi")
ffi.cdef [[
   typedef struct { long tv_sec; long tv_nsec; } shiori_timespec;
   int clock_gettime(int clock, shiori_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("shiori_timespec")
local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("id", thread_count)
   table.insert(threads, thread)
end

local function urlencode(s)
   -- RFC 3986 unreserved characters stay; every other byte (UTF-8 included) is %XX.
   return (s:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

local requests = {}
local next_index = 1
non2xx = 0
responses = 0
-- Raw latencies of this thread: histogram bucket (µs, 3 significant digits) -> count.
raw = {}
local started = nil
local paired = false

local function bucket(us)
   us = math.floor(us)
   if us < 1000 then return us end
   local scale = 10 ^ (math.floor(math.log10(us)) - 2)
   return math.floor(us / scale) * scale
end

function init(args)
   local file, tenant, facets = args[1], args[2] or "lc", args[3] or "mix"
   paired = args[4] == "1" -- one connection per thread: the caller says so
   assert(file, "usage: -- QUERIES_FILE TENANT [mix|off|on]")
   for line in io.lines(file) do
      if line:sub(1, 1) ~= "#" and line:match("%S") then
         local kind, flag, query = line:match("^([^\t]*)\t([01])\t(.+)$")
         assert(query, "bad line in " .. file .. ": " .. line)
         local with_facets = (facets == "on") or (facets == "mix" and flag == "1")
         local path = "/api/v1/" .. tenant .. "/search?q=" .. urlencode(query)
            .. "&per_page=20&facets=" .. (with_facets and "true" or "false")
         table.insert(requests, wrk.format("GET", path))
      end
   end
   assert(#requests > 0, "no queries in " .. file)
   -- Each thread starts at its own offset of the list (thread 1 at the top).
   next_index = ((tonumber(id) or 1) - 1) * 7919 % #requests + 1
end

function request()
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   started = now_us()
   return r
end

function response(status, headers, body)
   responses = responses + 1
   if paired and started then
      local b = bucket(now_us() - started)
      raw[b] = (raw[b] or 0) + 1
      started = nil
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if non2xx <= 3 then
         io.stderr:write("non-2xx response: " .. status .. " " .. tostring(body):sub(1, 200) .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local bad = 0
   local merged, keys, count, sum = {}, {}, 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + (tonumber(thread:get("non2xx")) or 0)
      for b, n in pairs(thread:get("raw") or {}) do
         if not merged[b] then table.insert(keys, b) end
         merged[b] = (merged[b] or 0) + n
         count = count + n
         sum = sum + b * n
      end
   end
   table.sort(keys)
   local function raw_percentile(p)
      if count == 0 then return 0 end
      local rank, seen = math.ceil(count * p / 100), 0
      for _, b in ipairs(keys) do
         seen = seen + merged[b]
         if seen >= rank then return b end
      end
      return keys[#keys]
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f mean_us=%.0f p50_us=%d p90_us=%d p99_us=%d "
         .. "p999_us=%d max_us=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d "
         .. "timeouts=%d raw_requests=%d raw_mean_us=%.0f raw_p50_us=%d raw_p90_us=%d "
         .. "raw_p99_us=%d raw_p999_us=%d raw_max_us=%d\n",
      summary.requests, seconds, summary.requests / seconds, latency.mean,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, bad, e.connect, e.read, e.write, e.timeout,
      count, count > 0 and sum / count or 0, raw_percentile(50), raw_percentile(90),
      raw_percentile(99), raw_percentile(99.9), count > 0 and keys[#keys] or 0))
end
