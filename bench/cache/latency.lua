-- wrk -s bench/cache/latency.lua: prints the latency percentiles wrk's
-- --latency leaves out, in ms, on one line that run.sh parses:
--   pct p50 p90 p99 p99.9 max
done = function(summary, latency, requests)
	io.write(string.format("pct %.3f %.3f %.3f %.3f %.3f\n",
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
		latency.max / 1000))
end
