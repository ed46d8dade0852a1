# corpus.awk: the text files of scripts/bench's compress scenario, an HTML
# page and a JavaScript bundle of exactly `bytes` bytes (-v kind=html|js
# -v bytes=N). Markup and source built from a vocabulary, names and
# numbers drawn from a Park-Miller generator with a fixed seed, so that
# every run, with mawk or gawk, writes the same bytes, and they compress
# about as well as real pages and bundles do (gzip -9: some 4x for the
# page, 5x for the bundle; not the 1000x of one repeated byte).

# Park-Miller "minimal standard": the product stays below 2^53, exact in
# awk's doubles.
function rnd(n) {
	seed = (seed * 16807) % 2147483647
	return seed % n
}

function word() { return words[rnd(nwords) + 1] }

function phrase(n,    s, i) {
	s = word()
	for (i = 1; i < n; i++)
		s = s " " word()
	return s
}

function ident(    s) {
	s = verbs[rnd(nverbs) + 1] nouns[rnd(nnouns) + 1]
	if (rnd(3) == 0)
		s = s nouns[rnd(nnouns) + 1]
	return s
}

# Adds a line to the block being built; flush() prints the block when it
# fits in the room left for the body, else the body is full: whole
# blocks only, so the markup and the source stay well formed.
function out(s) {
	block = block s "\n"
}

function flush() {
	if (size + length(block) > room)
		full = 1
	else {
		printf "%s", block
		size += length(block)
	}
	block = ""
}

# A comment of exactly n bytes (n >= 8) filling the room that is left.
function filler(n,    lead, trail, s) {
	lead = kind == "html" ? "<!-- " : "/* "
	trail = kind == "html" ? " -->\n" : " */\n"
	s = ""
	while (length(s) < n)
		s = s " " word()
	s = substr(s, 2, n - length(lead) - length(trail))
	while (length(s) < n - length(lead) - length(trail))
		s = s " "
	printf "%s%s%s", lead, s, trail
}

function html_block(    i, n, id) {
	id = rnd(100000)
	k = rnd(6)
	if (k == 0) {
		out("<section class=\"card card-" word() "\" id=\"s" id "\">")
		out("  <h2 class=\"card__title\">" toupper(substr(word(), 1, 1)) \
		    phrase(3 + rnd(4)) "</h2>")
		out("  <p class=\"card__text\">" phrase(20 + rnd(40)) ".</p>")
		out("  <a class=\"btn btn-primary\" href=\"/" word() "/" \
		    word() "-" id ".html\">Read more</a>")
		out("</section>")
	} else if (k == 1) {
		out("<ul class=\"nav-list\">")
		n = 3 + rnd(6)
		for (i = 0; i < n; i++)
			out("  <li class=\"nav-item\"><a href=\"/" word() "/" \
			    word() "\" title=\"" phrase(2) "\">" phrase(1 + \
			    rnd(2)) "</a></li>")
		out("</ul>")
	} else if (k == 2) {
		out("<table class=\"data-table\">")
		out("  <thead><tr><th>" word() "</th><th>" word() \
		    "</th><th>Amount</th><th>Date</th></tr></thead>")
		out("  <tbody>")
		n = 4 + rnd(8)
		for (i = 0; i < n; i++)
			out(sprintf("    <tr><td>%s</td><td>%s</td><td>%d.%02d" \
			    "</td><td>2024-%02d-%02d</td></tr>", word(),
			    phrase(2), rnd(10000), rnd(100), 1 + rnd(12),
			    1 + rnd(28)))
		out("  </tbody>")
		out("</table>")
	} else if (k == 3) {
		out("<figure class=\"media\">")
		out(sprintf("  <img src=\"/img/%s-%d.jpg\" alt=\"%s\" " \
		    "width=\"%d\" height=\"%d\" loading=\"lazy\">", word(), id,
		    phrase(4), 320 + 8 * rnd(100), 200 + 8 * rnd(60)))
		out("  <figcaption>" phrase(8 + rnd(10)) "</figcaption>")
		out("</figure>")
	} else if (k == 4) {
		out("<form class=\"form\" action=\"/" word() "\" method=\"post\">")
		out("  <label for=\"f" id "\">" phrase(2) "</label>")
		out("  <input id=\"f" id "\" name=\"" word() "\" type=\"text\" " \
		    "placeholder=\"" phrase(3) "\" required>")
		out("  <button type=\"submit\" class=\"btn\">" word() "</button>")
		out("</form>")
	} else {
		out("<article class=\"post\" data-id=\"" id "\">")
		out("  <header><h3>" phrase(4 + rnd(5)) "</h3><time datetime=\"" \
		    sprintf("2024-%02d-%02d", 1 + rnd(12), 1 + rnd(28)) \
		    "\">" (1 + rnd(28)) " " word() "</time></header>")
		n = 1 + rnd(3)
		for (i = 0; i < n; i++)
			out("  <p>" phrase(30 + rnd(50)) ".</p>")
		out("</article>")
	}
}

function js_block(    k, i, n, f, a, b) {
	# names declared at the top level are numbered: a module has each once
	nblock++
	f = ident() nblock
	a = nouns[rnd(nnouns) + 1]
	b = nouns[rnd(nnouns) + 1]
	a = tolower(substr(a, 1, 1)) substr(a, 2) "List"
	b = tolower(substr(b, 1, 1)) substr(b, 2) "Opts"
	k = rnd(5)
	if (k == 0) {
		out("/**")
		out(" * " phrase(6 + rnd(10)) ".")
		out(" * @param {Object} " a " " phrase(3))
		out(" * @returns {Array} " phrase(4))
		out(" */")
		out("export function " f "(" a ", " b " = {}) {")
		out("  const result = [];")
		out("  for (let i = 0; i < " a ".length; i++) {")
		out("    const item = " a "[i];")
		out("    if (item && item." word() " !== undefined && item.id > " \
		    rnd(1000) ") {")
		out("      result.push({ id: item.id, " word() ": item." word() \
		    " || " b "." word() " });")
		out("    }")
		out("  }")
		out("  return result.sort((x, y) => x.id - y.id);")
		out("}")
	} else if (k == 1) {
		out("const " toupper(word()) "_" toupper(word()) "_" nblock \
		    " = Object.freeze({")
		n = 3 + rnd(6)
		for (i = 0; i < n; i++)
			out("  " word() ": " (rnd(2) ? "\"" phrase(2 + rnd(3)) "\"" : \
			    rnd(100000)) ",")
		out("});")
	} else if (k == 2) {
		out("class " nouns[rnd(nnouns) + 1] nouns[rnd(nnouns) + 1] \
		    nblock " extends " nouns[rnd(nnouns) + 1] " {")
		out("  constructor(" a ", " b ") {")
		out("    super(" a ");")
		out("    this." b " = " b ";")
		out("    this.state = { loading: false, count: " rnd(50) " };")
		out("  }")
		out("")
		out("  async " f "() {")
		out("    this.state.loading = true;")
		out("    try {")
		out("      const res = await fetch(`/api/v" (1 + rnd(3)) "/" \
		    word() "/${this." b ".id}`);")
		out("      if (!res.ok) throw new Error(\"" phrase(3) ": \" + " \
		    "res.status);")
		out("      return await res.json();")
		out("    } finally {")
		out("      this.state.loading = false;")
		out("    }")
		out("  }")
		out("}")
	} else if (k == 3) {
		out("function " f "(" a ") {")
		out("  switch (" a ".type) {")
		n = 2 + rnd(5)
		for (i = 0; i < n; i++) {
			out("  case \"" word() "_" word() "\":")
			out("    return { ..." a ", " word() ": " a "." word() \
			    " + " rnd(100) " };")
		}
		out("  default:")
		out("    return " a ";")
		out("  }")
		out("}")
	} else {
		out("document.querySelectorAll(\"." word() "-" word() \
		    "\").forEach((el) => {")
		out("  el.addEventListener(\"" (rnd(2) ? "click" : "input") \
		    "\", (event) => {")
		out("    event.preventDefault();")
		out("    const value = el.dataset." word() " ?? \"" word() "\";")
		out("    " f "({ type: \"" word() "\", value, at: Date.now() });")
		out("  });")
		out("});")
	}
	out("")
}

BEGIN {
	seed = kind == "js" ? 20240611 : 19700101
	nwords = split("the a of and to in is for on with as by at from " \
	    "this that be are was it or an not your we our can will all " \
	    "more new about page site user data file server request time " \
	    "list value item content search home news blog account help " \
	    "contact service product price order cart shipping support " \
	    "update status report review event team project release note " \
	    "open free fast simple secure static cache config setting " \
	    "option version feature issue change guide start learn read " \
	    "view edit delete save share download upload login logout " \
	    "profile message comment reply post image video music photo " \
	    "city country language market week month year today small " \
	    "large first last next previous other public private local " \
	    "global network storage memory process worker client header " \
	    "body length type format source target route path query " \
	    "result error warning info debug index main footer sidebar " \
	    "menu button form input label title summary detail section",
	    words, " ")
	nverbs = split("get set load save fetch render update handle parse " \
	    "format build create remove find filter map sort validate " \
	    "compute resolve apply init reset toggle show hide open close",
	    verbs, " ")
	nnouns = split("User Item List Cart Order Price Route Query State " \
	    "Event Panel Modal Form Field Table Row Cell Menu Tab Page View " \
	    "Store Cache Token Session Config Option Filter Result Error " \
	    "Message Widget Chart Series Point Range Date Image Upload",
	    nouns, " ")
	size = 0
	full = 0
	block = ""
	if (kind == "html")
		tail = "</main>\n</body>\n</html>\n"
	else
		tail = "export default {};\n"
	room = bytes - length(tail)
	if (kind == "html") {
		out("<!doctype html>")
		out("<html lang=\"en\">")
		out("<head>")
		out("<meta charset=\"utf-8\">")
		out("<meta name=\"viewport\" content=\"width=device-width, " \
		    "initial-scale=1\">")
		out("<title>tine bench page</title>")
		out("<link rel=\"stylesheet\" href=\"/css/site.css\">")
		out("<script src=\"/app.js\" defer></script>")
		out("</head>")
		out("<body class=\"page\">")
		out("<main class=\"container\">")
		flush()
		while (!full) {
			html_block()
			flush()
		}
	} else {
		out("\"use strict\";")
		out("/* tine bench bundle */")
		flush()
		while (!full) {
			js_block()
			flush()
		}
	}
	# exactly `bytes` bytes: a comment up to the closing lines
	if (room - size >= 8)
		filler(room - size)
	else
		for (; size < room; size++)
			printf "\n"
	printf "%s", tail
}
