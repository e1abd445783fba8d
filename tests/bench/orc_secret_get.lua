-- wrk script: reads one Secret through orc's API again and again (each
-- read decrypts it when encryption is on). Arguments (after --): TOKEN
-- NAMESPACE NAME.
local token, ns, name = "", "bench", "s"

function init(args)
  token, ns, name = args[1] or token, args[2] or ns, args[3] or name
end

function request()
  return wrk.format("GET", "/api/v1/namespaces/" .. ns .. "/secrets/" .. name,
    {["Authorization"] = "Bearer " .. token})
end
