
local reads, writes, n, r, w = {}, {}, 0, 0, 0
local function load(path, into)
    for line in io.lines(path) do
        local m, p, b = line:match("^([^	]*)	([^	]*)	(.*)$")
        if b == "" then
            table.insert(into, wrk.format(m, p))
        else
            table.insert(into, wrk.format(m, p, {["Content-Type"] = "application/json"}, b))
        end
    end
end
function init(args)
    load(args[1], reads)
    load(args[2], writes)
    r = (offset or 0) % math.max(#reads, 1)
    w = (offset or 0) % math.max(#writes, 1)
end
function request()
    n = n + 1
    if #writes > 0 and (20 == 0 or n % 20 == 0) then
        w = w % #writes + 1
        return writes[w]
    end
    r = r % #reads + 1
    return reads[r]
end

statuses = {}
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end


local threads_ = {}
function setup(thread)
    thread:set("offset", #threads_ * 7919)
    table.insert(threads_, thread)
end
function done(summary, latency, requests)
    local statuses = {}
    for _, t in ipairs(threads_) do
        local c = t:get("statuses")
        if c then for k, v in pairs(c) do statuses[k] = (statuses[k] or 0) + v end end
    end
    local parts = {}
    for k, v in pairs(statuses) do table.insert(parts, string.format('"%s":%d', tostring(k), v)) end
    local e = summary.errors
    io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
        '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
        '"statuses":{%s}}\n', summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, latency.mean, table.concat(parts, ",")))
end

