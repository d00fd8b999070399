wrk.method = "GET"
wrk.path = "/api/v1/comments?site=default&uri=/big/"

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
