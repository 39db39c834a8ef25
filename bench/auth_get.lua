-- wrk script: GET with the bearer token from the environment (CW_TOKEN).
local token = os.getenv("CW_TOKEN")
request = function()
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
end
