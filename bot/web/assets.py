"""The reader's only two static files, held in memory: the stylesheet and a few lines of JS.

Served by bot/web/server.py at fixed routes (no file is ever looked up from a request), from
the reader's own origin, so the Content-Security-Policy can say `script-src 'self'` and
`style-src 'self'` without a nonce.  Nothing comes from a CDN: the reader works offline.
"""

from __future__ import annotations

import hashlib

CSS = """\
:root {
  color-scheme: light dark;
  --bg: #fdfcf9; --fg: #1d1d1b; --muted: #5f5e58; --link: #1c4f9c; --panel: #f1efe8;
  --rule: #d9d6cc; --mark: #fff0a8; --mark-fg: inherit; --accent: #1c4f9c;
  --measure: 42rem;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16171a; --fg: #e6e4de; --muted: #a9a69d; --link: #8db4ff; --panel: #22242a;
    --rule: #3a3c43; --mark: #5b4a00; --mark-fg: #fff6cc; --accent: #8db4ff;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 1.0625rem/1.6 Georgia, "Times New Roman", serif;
}
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); }
.skip { position: absolute; left: -999rem; }
.skip:focus { left: 1rem; top: 1rem; background: var(--panel); padding: .5rem; z-index: 2; }
header.site, main, footer.site { max-width: var(--measure); margin: 0 auto; padding: 0 1rem; }
header.site {
  display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
  padding-top: .75rem; padding-bottom: .75rem; border-bottom: 1px solid var(--rule);
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
}
header.site .home { font-weight: 700; text-decoration: none; color: var(--fg); }
form.search { display: flex; flex: 1 1 16rem; gap: .4rem; }
form.search input[type=search] {
  flex: 1; min-width: 0; font: inherit; padding: .35rem .5rem;
  background: var(--bg); color: var(--fg); border: 1px solid var(--rule); border-radius: 4px;
}
button, .button {
  font: inherit; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; cursor: pointer;
  padding: .35rem .7rem; border: 1px solid var(--rule); border-radius: 4px;
  background: var(--panel); color: var(--fg); text-decoration: none; display: inline-block;
}
h1, h2, h3 { line-height: 1.25; }
h1 { font-size: 1.7rem; margin: 1.5rem 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; }
.meta, .note, .cite, nav.passage, .verdict, .toc, footer.site, .count {
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: .9rem;
}
.meta, .note, .count, footer.site { color: var(--muted); }
.toc ol { padding-left: 1.2rem; }
.toc li { margin: .15rem 0; }
.empty { color: var(--muted); font-style: italic; }
.docs { list-style: none; padding: 0; }
.docs > li { margin: 0 0 1.5rem; }
p.para { margin: 0 0 1rem; }
p.para .num {
  font-family: system-ui, sans-serif; font-size: .75rem; color: var(--muted);
  text-decoration: none; margin-right: .35rem;
}
p.para.here {
  background: var(--panel); border-left: 3px solid var(--accent); padding: .4rem .6rem;
}
mark { background: var(--mark); color: var(--mark-fg); padding: 0 .1em; }
.here-card {
  margin: 1rem 0 1.5rem; padding: .75rem 1rem; background: var(--panel);
  border: 1px solid var(--rule); border-radius: 6px;
}
.here-card h2 { margin-top: 0; }
blockquote { margin: .5rem 0; padding-left: .9rem; border-left: 3px solid var(--rule); }
nav.passage { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .5rem; }
.results { list-style: none; padding: 0; }
.results > li { margin: 0 0 1.25rem; padding-bottom: 1rem; border-bottom: 1px solid var(--rule); }
.verdict { font-weight: 600; }
footer.site { margin-top: 3rem; padding-top: .75rem; padding-bottom: 2rem;
  border-top: 1px solid var(--rule); }
[hidden] { display: none !important; }
section[id], p[id], mark { scroll-margin-top: 1rem; }
@media (max-width: 30rem) {
  body { font-size: 1rem; }
  h1 { font-size: 1.4rem; }
}
@media print {
  :root { --bg: #fff; --fg: #000; --panel: #fff; --mark: #e8e8e8; --link: #000; }
  header.site, form.search, nav.passage, .skip, .toc, footer.site { display: none !important; }
  body { font-size: 11pt; }
  main { max-width: none; }
  a { text-decoration: none; }
  p.para.here { border-left: 2px solid #000; }
  h2 { break-after: avoid; }
  p.para { orphans: 3; widows: 3; }
}
"""

JS = """\
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  // Inside Telegram (a Mini App) the theme comes in the URL's fragment; only colours are used.
  try {
    var raw = new URLSearchParams(location.hash.slice(1)).get("tgWebAppThemeParams");
    if (raw) {
      var theme = JSON.parse(raw);
      var names = {bg_color: "--bg", text_color: "--fg", hint_color: "--muted",
        link_color: "--link", secondary_bg_color: "--panel", button_color: "--accent"};
      var colour = function (value) {
        return typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value) ? value : null;
      };
      // Panels fall back to the background, so text in them stays readable on any theme;
      // the highlight keeps its yellow with dark text.
      theme.secondary_bg_color = colour(theme.secondary_bg_color) || theme.bg_color;
      Object.keys(names).forEach(function (key) {
        var value = colour(theme[key]);
        if (value) { root.style.setProperty(names[key], value); }
      });
      root.style.setProperty("--mark", "#ffe680");
      root.style.setProperty("--mark-fg", "#1d1d1b");
      root.classList.add("telegram");
    }
  } catch (e) { /* not inside Telegram, or a malformed fragment: the page's own colours */ }
  var quote = document.getElementById("quote");
  if (quote && !/^#(p-|s)/.test(location.hash)) {
    quote.scrollIntoView({block: "center"});
  }
  var copy = document.querySelector("button[data-copy]");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var link = new URL(copy.getAttribute("data-copy"), location.href).href;
      navigator.clipboard.writeText(link).then(
        function () { copy.textContent = "Link copied"; },
        function () { copy.textContent = "Copy failed: " + link; });
    });
  }
})();
"""


def _version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


# The pages link to /static/reader.css?v=<hash>, so a browser never keeps an old copy.
CSS_VERSION = _version(CSS)
JS_VERSION = _version(JS)
