-- wrk load for bench/scaleout.py: many users, each request as one of them (bearer token),
-- a mix of what the app does all day:
--   3/10 PUT /api/sessions/<uuid>  (a new session 201, or the last one again 200: idempotent)
--   2/10 GET /api/sessions?limit=20
--   2/10 GET /api/insights
--   3/10 reminders CRUD: GET /api/reminders, then POST one (201), PATCH it (200), DELETE it (204)
-- Every answer is counted by kind and status; responses are matched to requests by the
-- X-Request-ID the app echoes, so any number of connections per thread works.
--
-- wrk -t T -c C -d 60s -s bench/scaleout.lua http://127.0.0.1:PORT -- TOKENS_FILE HH:MM THREADS

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   tokens = {}
   for line in io.lines(args[1]) do
      tokens[#tokens + 1] = line
   end
   local_time = args[2]     -- reminders made by the load fire at this local time: never in the run
   nthreads = tonumber(args[3])
   user = id                -- each thread walks its own share of the users
   serial = 0
   pending = {}             -- request id -> {kind, user}
   reminder = {}            -- user -> the reminder this load made for them (at most one)
   last_session = {}        -- user -> the last session uuid put
   counts = {}
   math.randomseed(id * 7919 + os.time())
end

local function uuid4()
   return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
      local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
      return string.format("%x", v)
   end))
end

local function session_body()
   -- Ten to forty days ago: in the insights window, never "practised in the last two
   -- hours" (which would skip the user's reminder in this run).
   local started = os.time() - math.random(10, 40) * 86400 - math.random(0, 86399)
   local minutes = math.random(3, 20)
   local mood = math.random(2, 7)
   return string.format(
      '{"routine":"%s","started_at":"%s","ended_at":"%s","pre":{"mood":%d},"post":{"mood":%d}}',
      (math.random(2) == 1) and "resonance" or "box",
      os.date("!%Y-%m-%dT%H:%M:%SZ", started), os.date("!%Y-%m-%dT%H:%M:%SZ", started + minutes * 60),
      mood, math.min(10, mood + math.random(0, 3)))
end

function request()
   user = user + nthreads
   if user > #tokens then user = id end
   serial = serial + 1
   local rid = string.format("w%02d-%09d", id, serial)
   local headers = {["Authorization"] = "Bearer " .. tokens[user], ["X-Request-ID"] = rid}
   local k = serial % 10
   local method, path, body, kind = "GET", nil, nil, nil
   if k <= 2 then
      local uuid = last_session[user]
      if k ~= 2 or uuid == nil then
         uuid = uuid4()
         last_session[user] = uuid
      end
      method, path, body, kind = "PUT", "/api/sessions/" .. uuid, session_body(), "PUT /api/sessions/<uuid>"
   elseif k <= 4 then
      path, kind = "/api/sessions?limit=20", "GET /api/sessions"
   elseif k <= 6 then
      path, kind = "/api/insights", "GET /api/insights"
   elseif k == 7 then
      path, kind = "/api/reminders", "GET /api/reminders"
   elseif reminder[user] == nil then
      method, path, kind = "POST", "/api/reminders", "POST /api/reminders"
      body = string.format('{"local_time":"%s","weekdays":[0,1,2,3,4,5,6],"routine":"box"}', local_time)
   elseif k == 8 then
      method, path, kind = "PATCH", "/api/reminders/" .. reminder[user], "PATCH /api/reminders/<id>"
      body = '{"weekdays":[0,2,4],"routine":"resonance"}'
   else
      method, path, kind = "DELETE", "/api/reminders/" .. reminder[user], "DELETE /api/reminders/<id>"
   end
   if body then
      headers["Content-Type"] = "application/json"
   end
   pending[rid] = {kind, user}
   return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
   local rid = headers["X-Request-ID"] or headers["x-request-id"]
   local p = rid and pending[rid]
   local kind = p and p[1] or "unmatched"
   if p then
      pending[rid] = nil
      if kind == "POST /api/reminders" and status == 201 then
         reminder[p[2]] = string.match(body, '"id"%s*:%s*(%d+)')
      elseif kind == "DELETE /api/reminders/<id>" and status == 204 then
         reminder[p[2]] = nil
      end
   end
   local key = kind .. "|" .. status
   counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
   local all = {}
   for _, t in ipairs(threads) do
      for key, n in pairs(t:get("counts")) do
         all[key] = (all[key] or 0) + n
      end
   end
   for key, n in pairs(all) do
      io.write(string.format("COUNT %s|%d\n", key, n))
   end
   local e = summary.errors
   io.write(string.format("SUMMARY %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
      e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("LATENCY %d %d %d %d %d\n", latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean))
end
