#!/usr/bin/env python3
"""pages.py: checks tine's HTML pages for test/pages.bats (stdlib only).

  pages.py check FILE         the page is small, well-formed HTML5 that
                              loads nothing from elsewhere; prints problems
  pages.py dom FILE           facts of a DOM dumped by chromium --dump-dom:
                              "title TEXT", "tags T1 T2...", then one
                              "link HREF<TAB>TEXT" per <a>, text unescaped
  pages.py png FILE W H       the screenshot is a W x H PNG with something
                              drawn on it; prints problems
  pages.py cdp IN OUT W H URL...
                              drives a chromium started with
                              --remote-debugging-pipe whose fd 3 reads the
                              FIFO IN and fd 4 writes the FIFO OUT: loads
                              each URL in a phone viewport of W x H
                              (mobile emulation, so <meta name=viewport>
                              counts) and prints one line a URL:
                              "URL inner=N scroll=N viewport=CONTENT fits=yes|no"
                              (fits: innerWidth is W, scrollWidth not more)
                              then, when it does not fit, "  wide TAG.CLASS"
                              for each element that reaches past the edge.

Exit status 0 when nothing is wrong; every wait is bounded (--timeout S,
default 30, for the whole run).
"""
import html.parser, json, os, select, signal, struct, sys, time, zlib

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
# Elements that load something by URL, and the attribute that names it.
LOADS = {("link", "href"), ("script", "src"), ("img", "src"),
         ("iframe", "src"), ("embed", "src"), ("object", "data"),
         ("source", "src"), ("video", "src"), ("audio", "src"),
         ("input", "src"), ("image", "href"), ("use", "href")}
PAGE_MAX_BYTES = 64 * 1024


class Checker(html.parser.HTMLParser):
    """Well-formedness as tine writes it: a doctype first, every non-void
    element closed in order, one title, charset and viewport metas, and no
    resource from another origin (nor any script)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []
        self.seen_doctype = False
        self.first = True
        self.count = {}
        self.metas = set()
        self.ids = set()
        self.style = []

    def problem(self, msg):
        line, col = self.getpos()
        self.problems.append("%d:%d: %s" % (line, col + 1, msg))

    def handle_decl(self, decl):
        if not self.first or decl.lower() != "doctype html":
            self.problem("doctype %r not first or not HTML5" % decl)
        self.seen_doctype = True
        self.first = False

    def handle_starttag(self, tag, attrs):
        if self.first:
            self.problem("<%s> before the doctype" % tag)
            self.first = False
        names = [a for a, _ in attrs]
        if len(names) != len(set(names)):
            self.problem("<%s> repeats an attribute" % tag)
        a = dict(attrs)
        self.count[tag] = self.count.get(tag, 0) + 1
        if tag == "script":
            self.problem("a script")
        if tag == "meta":
            if (a.get("charset") or "").lower() == "utf-8":
                self.metas.add("charset")
            if a.get("name") == "viewport" and \
                    "width=device-width" in (a.get("content") or ""):
                self.metas.add("viewport")
        if "id" in a:
            if a["id"] in self.ids:
                self.problem("duplicate id %r" % a["id"])
            self.ids.add(a["id"])
        if "style" in a:
            self.style.append(a["style"] or "")
        for name, value in attrs:
            if (tag, name) in LOADS and value is not None:
                v = value.strip().lower()
                if "//" in v or ":" in v.split("/")[0]:
                    self.problem("<%s %s=%r> loads from elsewhere" %
                                 (tag, name, value))
            if tag == "link" and name == "rel" and value and \
                    "stylesheet" in value.lower():
                self.problem("an external style sheet")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        # "<br/>" is fine on a void element, and any element of SVG's
        # foreign content may close itself; "<div/>" does not close.
        foreign = "svg" in self.stack
        self.handle_starttag(tag, attrs)
        if foreign:
            self.stack.pop()
        elif tag not in VOID:
            self.problem("<%s/> is not a void element" % tag)
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problem("</%s> closes a void element" % tag)
        elif not self.stack or self.stack[-1] != tag:
            self.problem("</%s> does not close <%s>" %
                         (tag, self.stack[-1] if self.stack else ""))
            if tag in self.stack:
                del self.stack[self.stack.index(tag):]
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style.append(data)
        elif self.first and data.strip():
            self.problem("text before the doctype")

    def finish(self):
        self.close()
        if not self.seen_doctype:
            self.problem("no doctype")
        if self.stack:
            self.problem("unclosed: %s" % " ".join(self.stack))
        for tag in ("html", "head", "body", "title"):
            if self.count.get(tag, 0) != 1:
                self.problem("%d <%s> elements" % (self.count.get(tag, 0),
                                                   tag))
        for m in ("charset", "viewport"):
            if m not in self.metas:
                self.problem("no <meta> %s" % m)
        css = "\n".join(self.style).lower()
        if "@import" in css or "url(" in css:
            self.problem("CSS that loads a resource")
        return self.problems


def cmd_check(path):
    with open(path, "rb") as f:
        raw = f.read()
    problems = []
    if len(raw) > PAGE_MAX_BYTES:
        problems.append("%d bytes: not a small page" % len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append("not UTF-8: %s" % e)
        text = raw.decode("utf-8", "replace")
    c = Checker()
    c.feed(text)
    problems += c.finish()
    for p in problems:
        print("%s:%s" % (path, p))
    return 1 if problems else 0


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title = None
        self.tags = set()
        self.links = []
        self.intitle = False
        self.link = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "title":
            self.intitle, self.title = True, ""
        elif tag == "a":
            self.link = [dict(attrs).get("href", ""), ""]

    def handle_endtag(self, tag):
        if tag == "title":
            self.intitle = False
        elif tag == "a" and self.link is not None:
            self.links.append(self.link)
            self.link = None

    def handle_data(self, data):
        if self.intitle:
            self.title += data
        if self.link is not None:
            self.link[1] += data


def cmd_dom(path):
    d = Dom()
    with open(path, encoding="utf-8") as f:
        d.feed(f.read())
    d.close()
    print("title %s" % (d.title if d.title is not None else ""))
    print("tags %s" % " ".join(sorted(d.tags)))
    for href, text in d.links:
        print("link %s\t%s" % (href, text))
    return 0


def cmd_png(path, width, height):
    with open(path, "rb") as f:
        data = f.read()
    problems = []
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        print("%s: not a PNG" % path)
        return 1
    w, h = struct.unpack(">II", data[16:24])
    if (w, h) != (width, height):
        problems.append("%dx%d, want %dx%d" % (w, h, width, height))
    # Every IDAT chunk, inflated: a blank page is a handful of byte values
    # (filter types and one colour); text and borders make many more.
    pos, idat = 8, b""
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    try:
        pixels = zlib.decompress(idat)
    except zlib.error as e:
        problems.append("bad image data: %s" % e)
        pixels = b""
    distinct = len(set(pixels))
    if distinct < 16:
        problems.append("only %d distinct bytes: a blank image" % distinct)
    for p in problems:
        print("%s: %s" % (path, p))
    return 1 if problems else 0


class Pipe:
    """The DevTools protocol over chromium's --remote-debugging-pipe:
    JSON messages, each ended by a NUL byte."""

    def __init__(self, inpath, outpath, deadline):
        self.deadline = deadline
        # Same order as the shell opened them for chromium, so neither
        # open waits for the other.
        self.w = os.open(inpath, os.O_WRONLY)
        self.r = os.open(outpath, os.O_RDONLY)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.w, data)
            data = data[n:]
        return self.next_id

    def read(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium in time")
            ready, _, _ = select.select([self.r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.r, 65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self.read()
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, session):
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method and ev.get("sessionId") == session:
                    del self.events[i]
                    return ev
            self.events.append(self.read())


# %d is the device width: under mobile emulation a page without a
# viewport meta, or one that overflows, widens its layout viewport
# (innerWidth) instead, so that is checked against the device too.
PROBE = """(() => {
  const d = document.documentElement, w = %d;
  const m = document.querySelector('meta[name="viewport"]');
  const wide = [];
  if (d.scrollWidth > w || window.innerWidth > w)
    for (const e of document.body.querySelectorAll('*'))
      if (e.getBoundingClientRect().right > w + 0.5)
        wide.push(e.localName + (e.className ? '.' + e.className : ''));
  return {inner: window.innerWidth, scroll: d.scrollWidth,
    viewport: m ? m.getAttribute('content') : '-', wide: wide};
})()"""


def cmd_cdp(inpath, outpath, width, height, urls, deadline):
    p = Pipe(inpath, outpath, deadline)
    status = 0
    for url in urls:
        target = p.call("Target.createTarget", {"url": "about:blank"})
        s = p.call("Target.attachToTarget",
                   {"targetId": target["targetId"], "flatten": True})
        s = s["sessionId"]
        p.call("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1,
                "mobile": True}, s)
        p.call("Page.enable", None, s)
        nav = p.call("Page.navigate", {"url": url}, s)
        if nav.get("errorText"):
            raise RuntimeError("%s: %s" % (url, nav["errorText"]))
        p.wait_event("Page.loadEventFired", s)
        r = p.call("Runtime.evaluate",
                   {"expression": PROBE % width, "returnByValue": True}, s)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (url, r["exceptionDetails"]))
        v = r["result"]["value"]
        fits = v["inner"] == width and v["scroll"] <= width
        print("%s inner=%d scroll=%d viewport=%s fits=%s" %
              (url, v["inner"], v["scroll"], v["viewport"],
               "yes" if fits else "no"))
        for e in v["wide"]:
            print("  wide %s" % e)
        if not fits:
            status = 1
        p.call("Target.closeTarget", {"targetId": target["targetId"]})
    try:
        p.send("Browser.close")
    except OSError:
        pass
    return status


def main(argv):
    timeout = 30.0
    if len(argv) > 2 and argv[0] == "--timeout":
        timeout = float(argv[1])
        argv = argv[2:]
    # The whole run is bounded, opens of the FIFOs included.
    signal.signal(signal.SIGALRM, lambda s, f: sys.exit("pages.py: timed out"))
    signal.alarm(int(timeout) + 1)
    deadline = time.monotonic() + timeout
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "check" and len(args) == 1:
        return cmd_check(args[0])
    if cmd == "dom" and len(args) == 1:
        return cmd_dom(args[0])
    if cmd == "png" and len(args) == 3:
        return cmd_png(args[0], int(args[1]), int(args[2]))
    if cmd == "cdp" and len(args) >= 5:
        return cmd_cdp(args[0], args[1], int(args[2]), int(args[3]),
                       args[4:], deadline)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
