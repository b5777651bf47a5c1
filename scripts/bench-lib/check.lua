-- wrk script for POST /v1/check, the same load against the cluster and the nginx
-- limit_req reference.
--
--   wrk -t2 -c64 -d10s -s check.lua http://127.0.0.1:8701 -- [PATH] [query]
--
-- PATH defaults to /v1/check. A second argument `query` (or CHECK_KEY_IN_QUERY=1) also
-- puts the key in the query string, /v1/check?key=k<i>, which nginx's $arg_key needs.
-- CHECK_KEYS (default 10000) and CHECK_RULE (default API) set the key space and rule;
-- CHECK_KEYS_FILE instead names a file of keys, one per line. CHECK_DELAY_MS makes each
-- connection wait that long before each request, for a fixed load below saturation.
-- The body is {"key":"k<i>","rule":"API","hits":1}; i cycles over the keys, each thread
-- from its own offset so threads hit different keys at any moment.
--
-- done() prints one machine-readable line:
--   RESULT rps=<req/s> p50_ms=<ms> p99_ms=<ms> requests=<n> errors=<socket errors> non2xx=<n>
-- non2xx is wrk's count of responses with status > 399 (429 refusals included); counting
-- them without response() keeps wrk from parsing every response.

local thread_count = 0

function setup(thread)
    thread:set("thread_id", thread_count)
    thread_count = thread_count + 1
end

local requests = {}
local next_index = 1

function init(args)
    local path = args[1] or "/v1/check"
    local in_query = args[2] == "query" or os.getenv("CHECK_KEY_IN_QUERY") == "1"
    local key_count = tonumber(os.getenv("CHECK_KEYS") or "10000")
    local rule = os.getenv("CHECK_RULE") or "API"
    local headers = { ["Content-Type"] = "application/json" }

    local keys = {}
    local keys_file = os.getenv("CHECK_KEYS_FILE")
    if keys_file then
        for line in io.lines(keys_file) do
            if line ~= "" then keys[#keys + 1] = line end
        end
        key_count = #keys
    end

    -- Building a request per call is what slows wrk down; build them all once.
    for i = 0, key_count - 1 do
        local key = keys[i + 1] or ("k" .. i)
        local target = path
        if in_query then
            local separator = path:find("?", 1, true) and "&" or "?"
            target = path .. separator .. "key=" .. key
        end
        local body = '{"key":"' .. key .. '","rule":"' .. rule .. '","hits":1}'
        requests[i + 1] = wrk.format("POST", target, headers, body)
    end
    -- A golden-ratio step spreads the threads' starting keys for any thread count.
    next_index = (math.floor((thread_id or 0) * key_count * 0.6180339887) % key_count) + 1
end

local delay_ms = tonumber(os.getenv("CHECK_DELAY_MS") or "")
if delay_ms then
    function delay()
        return delay_ms
    end
end

function request()
    local r = requests[next_index]
    next_index = next_index + 1
    if next_index > #requests then next_index = 1 end
    return r
end

function done(summary, latency, _)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d non2xx=%d\n",
        summary.requests / seconds,
        latency:percentile(50) / 1000,
        latency:percentile(99) / 1000,
        summary.requests,
        e.connect + e.read + e.write + e.timeout,
        e.status))
end
