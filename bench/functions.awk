# functions.awk: per-request instruction cost of each function, from two
# callgrind_annotate listings (--tree=none --auto=no) of runs that differ
# only in their number of requests: lines of the shorter run prefixed
# "A ", of the longer "B ". Prints "F kind instructions-per-request name".
# Variables: kind (self, or incl: only tine's own src/*.c functions),
# d (the difference in requests).

function base(p) {
	sub(/.*\//, "", p)
	return p
}

{
	run = $1
	line = substr($0, 3)
	# "1,536,434 ( 7.35%)  file:function [object]"
	if (!match(line, /^ *[0-9,]+ \( *[0-9.]+%\) +/))
		next
	name = substr(line, RLENGTH + 1)
	ir = line
	sub(/^ */, "", ir)
	sub(/ .*/, "", ir)
	gsub(/,/, "", ir)
	lib = ""
	if (match(name, / \[[^]]*\]$/)) {
		lib = base(substr(name, RSTART + 2, RLENGTH - 3))
		name = substr(name, 1, RSTART - 1)
	}
	if (name == "PROGRAM TOTALS")
		next
	i = match(name, /:[^:]*$/)
	file = substr(name, 1, i - 1)
	fn = substr(name, i + 1)
	if (kind == "incl" && file !~ /(^|\/)src\/[^\/]+\.c$/)
		next
	key = fn " (" (file == "???" ? lib : base(file)) ")"
	v[run, key] += ir
	keys[key] = 1
}

END {
	for (k in keys) {
		x = (v["B", k] - v["A", k]) / d
		if (x >= 1)
			printf "F %s %.0f %s\n", kind, x, k
	}
}
