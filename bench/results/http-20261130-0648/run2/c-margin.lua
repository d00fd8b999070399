wrk.method = "POST"
wrk.path = "/api/v1/counts"
wrk.body = "{\034site\034: \034default\034, \034uris\034: [\034/t/166/\034, \034/t/486/\034, \034/t/78/\034, \034/t/203/\034, \034/t/334/\034, \034/t/25/\034, \034/t/38/\034, \034/t/421/\034, \034/t/275/\034, \034/t/49/\034, \034/t/188/\034, \034/t/299/\034, \034/t/30/\034, \034/t/466/\034, \034/t/260/\034, \034/t/110/\034, \034/t/20/\034, \034/t/45/\034, \034/t/223/\034, \034/t/215/\034]}"
wrk.headers["Content-Type"] = "application/json"

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
