-- wrk script: POST one partner-exchange record per request (distinct provider per request).
-- Token from the environment (never on the command line): CW_TOKEN.
local token = os.getenv("CW_TOKEN")
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"item":"N20","provider":"bench-%d-%d","site":"fab","country":"KOR","metric":"capacity",' ..
    '"value":%d,"unit":"wafers/month","period":"2024-Q1","provenance":"wrk","distribution":"community"}',
    math.random(1, 1000000), n, n)
  return wrk.format("POST", "/api/v1/records",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
