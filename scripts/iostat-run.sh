#!/bin/sh
# iostat-run.sh CMD ARGS...: runs CMD and prints, on stderr, its wall time,
# peak RSS and the bytes it wrote through write calls (wchar of
# /proc/PID/io, read just before it exits).
start=$(date +%s.%N)
"$@" &
pid=$!
w=0
while kill -0 $pid 2>/dev/null; do
	v=$(awk '/^wchar/ {print $2}' /proc/$pid/io 2>/dev/null) && [ -n "$v" ] && w=$v
	rss=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null) && [ -n "$rss" ] && hwm=$rss
	sleep 0.2
done
wait $pid
rc=$?
end=$(date +%s.%N)
echo "$(echo "$end - $start" | bc) s wall, ${hwm} KB peak RSS, $w bytes written" >&2
exit $rc
