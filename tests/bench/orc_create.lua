-- wrk script: creates 1 KiB ConfigMaps through orc's API, each with its own
-- name. Arguments (after --): RUN_ID TOKEN NAMESPACE.
local counter = 0
tid = 0 -- global: wrk's thread:set() assigns globals
local threads = 0
local payload = string.rep("x", 1024)
local run, token, ns = "r", "", "bench"

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  run, token, ns = args[1] or run, args[2] or token, args[3] or ns
end

function request()
  counter = counter + 1
  local body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b' .. run .. '-' ..
    tid .. '-' .. counter .. '"},"data":{"v":"' .. payload .. '"}}'
  return wrk.format("POST", "/api/v1/namespaces/" .. ns .. "/configmaps",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
