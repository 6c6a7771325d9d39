-- post.lua: wrk sends a benign 4 KiB urlencoded form POST (a contact form
-- with a long message), the same shape as internal/waf's BenchmarkCRSPost.
local words = {"Hello", "I", "would", "like", "to", "ask", "about", "my", "order", "number", "12345", "placed", "last", "week", "thanks"}
local parts = {"name=Jane+Smith&email=jane.smith%40example.org&subject=Order+question&message="}
local n, i = #parts[1], 0
while n < 4096 do
	i = i + 1
	local w = words[(i - 1) % #words + 1]
	if i > 1 then w = "+" .. w end
	parts[#parts + 1] = w
	n = n + #w
end
wrk.method = "POST"
wrk.body = string.sub(table.concat(parts), 1, 4096)
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
