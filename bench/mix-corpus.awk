# bench/mix-corpus.awk: the site of the `mix` scenario of scripts/bench.
# Writes FILES files under ROOT in nested directories and prints one line
# per file, the most popular first: "PATH BYTES TYPE". Everything comes
# from SEED through a generator of its own (MINSTD, exact in awk's
# doubles), so any awk on any machine makes the same files and the same
# ranking.
#
# usage: awk -v root=DIR -v files=N -v seed=S -f bench/mix-corpus.awk
#
# Types and sizes: HTTP Archive, Web Almanac 2024, chapter "Page Weight"
# (almanac.httparchive.org/en/2024/page-weight; crawl of October 2024),
# the median desktop page: images 1,054 KB in 18 requests, JavaScript
# 613 KB in 24 requests, fonts 131 KB, CSS 78 KB, HTML 18 KB. The request
# counts of fonts, CSS and HTML are not among those figures: here 4, 7
# and 1 (our assumption). Each type's share of the files is its share of
# a page's requests, and a file's size is drawn from a log-normal whose
# median is the type's bytes per request on that page (images 58.6 KB,
# JavaScript 25.5 KB, fonts 32.8 KB, CSS 11.1 KB, HTML 18 KB) and whose
# sigma is 1 (our assumption: the chapter gives no spread per response),
# cut to [64 B, 4 MiB]. The popularity rank is a shuffle of all files, so
# that every type has popular and rare files.
function rnd() {		# uniform in (0, 1)
	state = (state * 48271) % 2147483647
	return state / 2147483647
}

function normal(    u, v) {	# Box-Muller
	u = rnd()
	v = rnd()
	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
}

# type name, directory, extensions (space-separated, picked in turn),
# requests per page, KB per page
function type(name, dir, exts, req, kb) {
	ntypes++
	tname[ntypes] = name
	tdir[ntypes] = dir
	text[ntypes] = exts
	treq[ntypes] = req
	tkb[ntypes] = kb
	reqs += req
}

BEGIN {
	if (root == "" || files + 0 < 1) {
		print "usage: awk -v root=DIR -v files=N -v seed=S " \
		    "-f bench/mix-corpus.awk" > "/dev/stderr"
		exit 2
	}
	state = (seed + 0) % 2147483646 + 1
	type("html", "pages", "html", 1, 18)
	type("css", "css", "css", 7, 78)
	type("js", "js", "js", 24, 613)
	type("image", "img", "jpg png webp", 18, 1054)
	type("font", "fonts", "woff2", 4, 131)
	SIGMA = 1
	MIN_BYTES = 64
	MAX_BYTES = 4 * 1024 * 1024
	BLOCK = 65536

	# printable filler, the same bytes every run
	s = ""
	for (i = 0; i < 64; i++)
		s = s sprintf("%c", 33 + int(rnd() * 94))
	line = s "\n"
	block = line
	while (length(block) < BLOCK)
		block = block block
	block = substr(block, 1, BLOCK)

	n = 0
	for (t = 1; t <= ntypes; t++) {
		count = int(files * treq[t] / reqs + 0.5)
		if (t == ntypes)
			count = files - n
		m = split(text[t], ext, " ")
		median = tkb[t] * 1024 / treq[t]
		for (i = 0; i < count; i++) {
			n++
			d = sprintf("/%s/%d/%d", tdir[t], i % 10,
			    int(i / 10) % 10)
			if (!(d in made)) {
				made[d] = 1
				if (system("mkdir -p '" root d "'") != 0)
					exit 1
			}
			path[n] = sprintf("%s/%s%d.%s", d, substr(tname[t],
			    1, 1), i, ext[i % m + 1])
			b = int(median * exp(SIGMA * normal()))
			if (b < MIN_BYTES)
				b = MIN_BYTES
			if (b > MAX_BYTES)
				b = MAX_BYTES
			bytes[n] = b
			kind[n] = tname[t]
		}
	}

	for (i = 1; i <= n; i++) {
		f = root path[i]
		left = bytes[i]
		while (left > 0) {
			k = left < BLOCK ? left : BLOCK
			printf "%s", substr(block, 1, k) > f
			left -= k
		}
		close(f)
	}

	# the ranking: Fisher-Yates over 1..n
	for (i = 1; i <= n; i++)
		rank[i] = i
	for (i = n; i > 1; i--) {
		j = int(rnd() * i) + 1
		x = rank[i]
		rank[i] = rank[j]
		rank[j] = x
	}
	for (i = 1; i <= n; i++)
		print path[rank[i]], bytes[rank[i]], kind[rank[i]]
}
