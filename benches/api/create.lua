-- POST /api/v1/hazards with a fresh body each time (the token and the
-- enterprise come from the environment).
local enterprise = os.getenv("ENTERPRISE")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"enterprise_id":"%s","source":"resident_expert","title":"压力表未校验 %d","description":"基准测试","location":"1号装置区","category":"unsafe_condition","specialty":"equipment","level":"general","deadline":"2099-12-31"}',
    enterprise, n)
  return wrk.format(nil, nil, nil, body)
end
