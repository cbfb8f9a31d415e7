-- wrk script: HTTP/1.1 pipelining, TechEmpower style. Sends DEPTH requests back to back per write and
-- lets wrk count every response. Usage: wrk -s pipeline.lua URL -- DEPTH (default 16).
init = function(args)
  local depth = tonumber(args[1]) or 16
  local batch = {}
  for i = 1, depth do
    batch[i] = wrk.format()
  end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
