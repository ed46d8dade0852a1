# stats.awk: the median of a list of figures, for the report scripts of
# scripts/bench (report.awk, burst.awk), which are run with this file
# before them: awk -f bench/stats.awk -f bench/report.awk. Plain POSIX awk.

# Insertion sort of a[1..n]: a handful of rounds.
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}

# The median of a space-separated list, or "" when it is empty.
function median(list,    a, n) {
	n = split(list, a, " ")
	if (n == 0)
		return ""
	sort(a, n)
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
