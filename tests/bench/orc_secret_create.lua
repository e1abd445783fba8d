-- wrk script: creates 1 KiB Secrets through orc's API, each with its own
-- name. Arguments (after --): RUN_ID TOKEN NAMESPACE.
local counter = 0
tid = 0 -- global: wrk's thread:set() assigns globals
local threads = 0
local payload = string.rep("eHh4", 256) -- base64 of 768 bytes: 1 KiB in data
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
  local body = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s' .. run .. '-' ..
    tid .. '-' .. counter .. '"},"data":{"v":"' .. payload .. '"}}'
  return wrk.format("POST", "/api/v1/namespaces/" .. ns .. "/secrets",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
