// An automated accessibility check of the rendered page, run by the
// browser test through the DevTools protocol (not by the page: the
// dashboard's CSP allows no inline script). It checks the kinds of errors
// automated checkers such as axe-core catch that matter for these pages:
//   - landmarks: one <main>, a banner <header>, every <nav> named, a
//     <footer>, a <h1>, <html lang>, a <title>;
//   - labels: every visible form control has an accessible name (a
//     <label for>, a wrapping <label>, aria-label or aria-labelledby);
//     every button and link has text; every <svg role=img> has aria-label;
//   - contrast: every element with its own visible text reaches WCAG AA
//     (4.5:1, or 3:1 for large text) against its effective background.
// It returns a list of problems (empty when the page passes).
(() => {
  const problems = [];
  const visible = (el) => {
    const s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden") return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "");

  if (!document.documentElement.lang) problems.push("html has no lang");
  if (!document.title.trim()) problems.push("no title");
  if (document.querySelectorAll("main").length !== 1) problems.push("want exactly one main landmark");
  if (!document.querySelector("body > header")) problems.push("no banner header");
  if (!document.querySelector("body > footer")) problems.push("no contentinfo footer");
  if (document.querySelectorAll("h1").length !== 1) problems.push("want exactly one h1");
  const navs = document.querySelectorAll("nav");
  if (navs.length > 1) navs.forEach((n) => { if (!n.getAttribute("aria-label") && !n.getAttribute("aria-labelledby")) problems.push("nav without a name: " + describe(n)); });
  const ids = {};
  document.querySelectorAll("[id]").forEach((el) => { if (ids[el.id]) problems.push("duplicate id " + el.id); ids[el.id] = true; });

  document.querySelectorAll("input, select, textarea").forEach((el) => {
    if (el.type === "hidden" || !visible(el)) return;
    let named = !!(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.closest("label"));
    if (!named && el.id) {
      const l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
      named = !!(l && l.textContent.trim());
    }
    if (!named) problems.push("form control without a label: " + describe(el));
  });
  document.querySelectorAll("button, a[href]").forEach((el) => {
    if (!visible(el)) return;
    if (!(el.textContent.trim() || el.getAttribute("aria-label"))) problems.push("control without text: " + describe(el));
  });
  document.querySelectorAll("svg").forEach((el) => {
    if (el.closest("[aria-hidden=true]")) return;
    if (el.getAttribute("role") !== "img" || !el.getAttribute("aria-label")) problems.push("svg without role=img and aria-label");
  });
  document.querySelectorAll("table").forEach((t) => { if (!t.querySelector("th")) problems.push("table without header cells"); });

  const parse = (c) => {
    const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
    if (!m) return null;
    return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
  };
  const lum = (rgb) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const b = parse(getComputedStyle(e).backgroundColor);
      if (b && b[3] > 0) return b;
    }
    return [255, 255, 255, 1];
  };
  const seen = {};
  document.querySelectorAll("body *").forEach((el) => {
    if (!visible(el) || el.closest("svg") || el.classList.contains("skip")) return;
    let own = "";
    el.childNodes.forEach((n) => { if (n.nodeType === 3) own += n.textContent; });
    if (!own.trim()) return;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    if (!fg) return;
    const bg = background(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) {
      const key = s.color + "/" + bg.join(",");
      if (!seen[key]) problems.push("contrast " + ratio.toFixed(2) + " < " + need + " for " + describe(el) + " (" + s.color + " on rgb(" + bg.slice(0, 3).join(",") + "))");
      seen[key] = true;
    }
  });
  return problems;
})()
