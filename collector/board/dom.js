/*
 * DOM helpers, text only: every string from the field (site and host names, event
 * messages, inventory) is written as text (textContent / text nodes), never parsed as
 * HTML, so nothing needs escaping and nothing can inject markup (CSP: no inline script).
 */

/**
 * Builds an element. Strings in `kids` become text nodes; `text` sets textContent. There
 * is deliberately no way to pass HTML.
 */
export function el(tag, props, kids) {
  var n = document.createElement(tag);
  var p = props || {};
  for (var k in p) {
    if (!Object.prototype.hasOwnProperty.call(p, k)) continue;
    var v = p[k];
    if (v == null || v === false) continue;
    if (k === 'cls') n.className = v;
    else if (k === 'text') n.textContent = String(v);
    else if (k === 'on') for (var ev in v) n.addEventListener(ev, v[ev]);
    else if (k === 'data') for (var d in v) n.setAttribute('data-' + d, String(v[d]));
    else if (k === 'value') n.value = v;
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  append(n, kids);
  return n;
}
export function append(n, kids) {
  if (kids == null) return n;
  if (!Array.isArray(kids)) kids = [kids];
  for (var i = 0; i < kids.length; i++) {
    var c = kids[i];
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(n, c);
    else n.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return n;
}
export function clear(n) {
  while (n.firstChild) n.removeChild(n.firstChild);
  return n;
}
export function $(id) {
  return document.getElementById(id);
}
export function href() {
  var parts = ['#'];
  for (var i = 0; i < arguments.length; i++) parts.push(encodeURIComponent(arguments[i]));
  return parts.join('/');
}
export function table(headers, rows, cls) {
  var thead = el(
    'thead',
    null,
    el(
      'tr',
      null,
      headers.map(function (h) {
        return typeof h === 'string' ? el('th', { text: h }) : el('th', { text: h.text, cls: h.cls });
      }),
    ),
  );
  return el('div', { cls: 'tablewrap' }, el('table', { cls: cls }, [thead, el('tbody', null, rows)]));
}
export function td(text, cls) {
  return el('td', { cls: cls }, text);
}
export function note(text) {
  return el('p', { cls: 'muted' }, text);
}
export function banner(text, info) {
  var b = $('banner');
  if (!text) {
    b.hidden = true;
    return;
  }
  b.className = info ? 'info' : '';
  b.textContent = text;
  b.hidden = false;
}
