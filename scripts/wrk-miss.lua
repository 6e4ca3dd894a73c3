-- wrk: every request a new address (`?miss=N` added), so the page cache never holds it and each
-- request renders the page (what a further viewer, or the first view after a change, costs).
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format("GET", wrk.path .. sep .. "miss=" .. math.random(1, 1000000000))
end
