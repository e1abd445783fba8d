-- wrk script: raw 1 KiB puts through etcd's v3 JSON gateway, each to its own
-- key. Keys and values are written directly in base64 (digits are base64
-- characters, so a 24-character key needs no encoder). Argument: RUN_ID (digits).
local counter = 0
tid = 0 -- global: wrk's thread:set() assigns globals
local threads = 0
local value = string.rep("eHh4", 341) .. "eA==" -- 1024 bytes of "x"
local run = "00"

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  run = args[1] or run
end

function request()
  counter = counter + 1
  local key = "YmVu" .. string.format("%02d%02d%04d%012d", tonumber(run) % 100, tid, 0, counter)
  return wrk.format("POST", "/v3/kv/put", {["Content-Type"] = "application/json"},
    '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
