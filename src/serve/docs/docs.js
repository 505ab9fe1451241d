// torchless /docs renderer (specs/serving.md 6.8). Fetches /openapi.json, resolves its $refs, lists
// every operation with parameters, request body, responses, schemas and examples, and gives each a
// "Try it" panel that sends the request with fetch() and shows status, X-Request-ID, time and body.
// The page is served with CSP default-src 'self': the DOM is built with createElement/textContent
// only (no document string is parsed as HTML) and no element gets an inline style.
//
// Test hook: /docs#try=METHOD-PATH, e.g. #try=post-/predict or #try=post-/v2/models/{name}/infer,
// sends that operation's prefilled request once the page is rendered and writes the HTTP status
// (or "error: ...") into #try-status. #status reads "ok" once the document is rendered.
'use strict';
(() => {
  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  const MAX_SHOWN = 200000;  // characters of a response body shown
  const $ = (id) => document.getElementById(id);
  let spec = null;
  let base = '';  // from servers[0].url when it is a path ("/" -> "")
  const tries = new Map();  // "post-/predict" -> {el: <details>, run: async () => status}

  // ---- DOM helpers ----------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat(9)) {
      if (k !== undefined && k !== null && k !== false && k !== '') e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }
  // Plain text where `backquoted` parts become <code>.
  function text(s, cls) {
    const e = h('div', {class: cls || 'desc'});
    String(s || '').split(/`([^`]*)`/).forEach((part, i) => e.append(i % 2 ? h('code', null, part) : part));
    return e;
  }
  // JSON laid out for reading: arrays of scalars on one line.
  function fmt(v, ind) {
    ind = ind || '';
    const inner = ind + '  ';
    if (Array.isArray(v)) {
      if (!v.length) return '[]';
      if (v.every((x) => x === null || typeof x !== 'object')) return '[' + v.map((x) => JSON.stringify(x)).join(', ') + ']';
      return '[\n' + v.map((x) => inner + fmt(x, inner)).join(',\n') + '\n' + ind + ']';
    }
    if (v && typeof v === 'object') {
      const ks = Object.keys(v);
      if (!ks.length) return '{}';
      return '{\n' + ks.map((k) => inner + JSON.stringify(k) + ': ' + fmt(v[k], inner)).join(',\n') + '\n' + ind + '}';
    }
    return v === undefined ? 'null' : JSON.stringify(v);
  }
  const isJson = (type) => /[/+]json\b/i.test(type);

  // ---- $ref -------------------------------------------------------------------------------
  function pointer(ref) {
    if (typeof ref !== 'string' || !ref.startsWith('#/')) throw new Error('unsupported $ref ' + ref);
    let v = spec;
    for (const raw of ref.slice(2).split('/')) {
      const k = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) {
        throw new Error('unresolved $ref ' + ref);
      }
      v = v[k];
    }
    return v;
  }
  // Follows a chain of $refs to the object itself.
  function deref(o) {
    const seen = new Set();
    while (o && typeof o === 'object' && typeof o.$ref === 'string') {
      if (seen.has(o.$ref)) throw new Error('cyclic $ref ' + o.$ref);
      seen.add(o.$ref);
      o = pointer(o.$ref);
    }
    return o;
  }
  // Every $ref of the document must resolve, else the status shows which one does not.
  function checkRefs(o) {
    if (Array.isArray(o)) o.forEach(checkRefs);
    else if (o && typeof o === 'object') {
      for (const k in o) {
        if (k === '$ref' && typeof o[k] === 'string') pointer(o[k]);
        else checkRefs(o[k]);
      }
    }
  }

  // ---- schemas --------------------------------------------------------------------------
  const refName = (r) => decodeURIComponent(r.split('/').pop()).replace(/~1/g, '/').replace(/~0/g, '~');
  function typeLabel(s) {
    if (!s || typeof s !== 'object') return 'any';
    if (s.$ref) return refName(s.$ref);
    const alts = s.oneOf || s.anyOf;
    let t = alts ? alts.map(typeLabel).join(' | ') : s.type || (s.properties ? 'object' : s.allOf ? 'all of' : 'any');
    if (t === 'array') {
      const it = typeLabel(s.items);
      t = (it.includes(' ') ? '(' + it + ')' : it) + '[]';
    }
    if (s.format) t += ' <' + s.format + '>';
    if (s.nullable) t += ' | null';
    return t;
  }
  function notes(s) {
    const n = [];
    if (s.enum) n.push('one of ' + s.enum.map((x) => JSON.stringify(x)).join(', '));
    for (const k of ['minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'default']) {
      if (s[k] !== undefined) n.push(k + ' ' + (typeof s[k] === 'string' ? s[k] : JSON.stringify(s[k])));
    }
    if (s.additionalProperties === true) n.push('other members allowed');
    return n.join('; ');
  }
  const expandable = (s) => !!(s && (s.$ref || s.properties || s.allOf || s.description || s.enum));
  // A schema as a tree: type, constraints, description, then members, item type, alternatives. A
  // named schema already open on the path is not expanded again (recursive schemas).
  function schemaView(s, path) {
    path = path || [];
    let name = '';
    if (s && s.$ref) {
      name = refName(s.$ref);
      if (path.includes(s.$ref) || path.length > 10) return h('div', {class: 'schema'}, h('span', {class: 'type'}, name));
      path = path.concat(s.$ref);
      s = deref(s);
    }
    s = s && typeof s === 'object' ? s : {};
    const box = h('div', {class: 'schema'}, h('span', {class: name ? 'type named' : 'type'}, name || typeLabel(s)));
    const n = notes(s);
    if (n) box.append(' ', h('span', {class: 'notes'}, n));
    if (s.description) box.append(text(s.description));
    if (s.properties) {
      const req = new Set(s.required || []);
      box.append(h('ul', {class: 'props'}, Object.keys(s.properties).map((k) =>
        h('li', null, h('code', {class: 'prop'}, k), req.has(k) ? h('span', {class: 'req', title: 'required'}, '*') : null,
          ' ', schemaView(s.properties[k], path)))));
    }
    if (s.type === 'array' && expandable(s.items)) box.append(h('div', {class: 'items'}, 'items: ', schemaView(s.items, path)));
    for (const k of ['oneOf', 'anyOf', 'allOf']) {
      if (Array.isArray(s[k]) && s[k].some(expandable)) {
        box.append(h('div', {class: 'alts'}, k + ':', h('ul', null, s[k].map((x) => h('li', null, schemaView(x, path))))));
      }
    }
    return box;
  }

  // ---- operations -----------------------------------------------------------------------
  function examplesView(media, type) {
    const show = (v) => h('pre', {class: 'example'}, typeof v === 'string' && !isJson(type) ? v : fmt(v));
    const out = [];
    if (media.example !== undefined) out.push(h('div', {class: 'ex-title'}, 'Example'), show(media.example));
    for (const k in media.examples || {}) {
      const ex = deref(media.examples[k]) || {};
      out.push(h('div', {class: 'ex-title'}, 'Example "' + k + '"' + (ex.summary ? ': ' + ex.summary : '')), show(ex.value));
    }
    return out;
  }
  function contentView(content) {
    return Object.keys(content || {}).map((type) => {
      const media = content[type] || {};
      return h('div', {class: 'media'}, h('div', {class: 'ctype'}, type),
        media.schema ? schemaView(media.schema) : null, examplesView(media, type));
    });
  }
  function paramsView(params) {
    if (!params.length) return null;
    return [h('h4', null, 'Parameters'), h('table', {class: 'params'},
      h('tr', null, h('th', null, 'Name'), h('th', null, 'In'), h('th', null, 'Schema'), h('th', null, 'Description')),
      params.map((p) => h('tr', null,
        h('td', null, h('code', null, p.name), p.required ? h('span', {class: 'req', title: 'required'}, '*') : null),
        h('td', null, p.in), h('td', null, schemaView(p.schema)), h('td', null, text(p.description)))))];
  }
  function bodyView(rb) {
    rb = deref(rb);
    if (!rb) return null;
    return [h('h4', null, 'Request body', rb.required ? h('span', {class: 'req', title: 'required'}, '*') : null),
      rb.description ? text(rb.description) : null, contentView(rb.content)];
  }
  function responsesView(responses) {
    return [h('h4', null, 'Responses'), h('table', {class: 'responses'},
      h('tr', null, h('th', null, 'Status'), h('th', null, 'Description')),
      Object.keys(responses || {}).map((code) => {
        const r = deref(responses[code]) || {};
        const headers = Object.keys(r.headers || {});
        return h('tr', null, h('td', {class: 'code c' + code[0]}, code),
          h('td', null, text(r.description), headers.length ? h('div', {class: 'notes'}, 'Headers: ' + headers.join(', ')) : null,
            contentView(r.content)));
      }))];
  }
  // Path-item and operation parameters (the operation's win), path ones first.
  function mergeParams(shared, own) {
    const m = new Map();
    for (const p of (shared || []).concat(own || [])) {
      const d = deref(p);
      if (d && d.name) m.set(d.in + ':' + d.name, d);
    }
    const rank = (p) => ['path', 'query', 'header', 'cookie'].indexOf(p.in);
    return [...m.values()].sort((a, b) => rank(a) - rank(b));
  }

  // ---- Try it ---------------------------------------------------------------------------
  // The body editor of one media type: {el, get() -> {body, ct}, pick(exampleKey)}.
  function bodyEditor(type, media) {
    if (isJson(type) || /^text\//i.test(type)) {
      const examples = {};
      if (media.example !== undefined) examples.example = media.example;
      for (const k in media.examples || {}) examples[k] = (deref(media.examples[k]) || {}).value;
      const keys = Object.keys(examples);
      const area = h('textarea', {class: 'body-text', rows: 10, spellcheck: 'false', 'aria-label': 'request body'});
      const sel = keys.length > 1 ? h('select', {class: 'ex-select', 'aria-label': 'example'}, keys.map((k) => h('option', {value: k}, k))) : null;
      const fill = (k) => {
        const v = examples[k];
        area.value = v === undefined ? '' : typeof v === 'string' && !isJson(type) ? v : fmt(v);
      };
      if (sel) sel.addEventListener('change', () => fill(sel.value));
      if (keys.length) fill(keys[0]);
      return {
        el: h('div', {class: 'editor'}, sel ? h('label', {class: 'field'}, h('span', null, 'example'), sel) : null, area),
        get: () => ({body: area.value, ct: type}),
        pick: (k) => { if (sel && k in examples) { sel.value = k; fill(k); } },
      };
    }
    if (/^multipart\/form-data/i.test(type)) {
      const s = deref(media.schema) || {};
      const props = s.properties || {file: {type: 'string', format: 'binary'}};
      const inputs = Object.keys(props).map((k) => {
        const binary = (deref(props[k]) || {}).format === 'binary';
        return {k, binary, el: h('input', binary ? {type: 'file', name: k} : {type: 'text', name: k})};
      });
      return {
        el: h('div', {class: 'editor'}, inputs.map((i) => h('label', {class: 'field'}, h('span', null, i.k), i.el))),
        get: () => {
          const fd = new FormData();
          for (const i of inputs) {
            if (i.binary) { if (i.el.files[0]) fd.append(i.k, i.el.files[0]); } else if (i.el.value !== '') fd.append(i.k, i.el.value);
          }
          return {body: fd, ct: null};  // fetch writes the boundary
        },
        pick: () => {},
      };
    }
    const file = h('input', {type: 'file', 'aria-label': 'request body file'});
    return {
      el: h('div', {class: 'editor'}, h('label', {class: 'field'}, h('span', null, 'body file'), file)),
      get: () => ({body: file.files[0] || new Blob([]), ct: type}),
      pick: () => {},
    };
  }

  function showResponse(out, r, buf, ms) {
    const ct = r.headers.get('Content-Type') || '';
    let body = new TextDecoder('utf-8', {fatal: false}).decode(buf.byteLength > MAX_SHOWN ? buf.slice(0, MAX_SHOWN) : buf);
    if (isJson(ct)) {
      try { body = fmt(JSON.parse(body)); } catch (e) { /* shown as text */ }
    } else if (!/^text\//i.test(ct) && ct) {
      body = buf.byteLength + ' bytes (' + ct + ')' + (/octet-stream/i.test(ct) ? '\n' + body : '');
    }
    if (buf.byteLength > MAX_SHOWN) body += '\n... (' + buf.byteLength + ' bytes in all)';
    const row = (k, v, cls) => h('tr', null, h('th', null, k), h('td', cls ? {class: cls} : null, v));
    out.replaceChildren(h('table', {class: 'result-meta'},
      row('Status', r.status + (r.statusText ? ' ' + r.statusText : ''), 'code c' + String(r.status)[0]),
      row('Time', ms.toFixed(1) + ' ms'),
      row('X-Request-ID', r.headers.get('X-Request-ID') || '(none)'),
      row('Content-Type', ct || '(none)')), h('pre', {class: 'result-body'}, body));
  }

  function tryPanel(method, path, params, requestBody) {
    const fields = new Map();
    const rows = params.map((p) => {
      const s = deref(p.schema) || {};
      let init = p.example !== undefined ? p.example : s.example !== undefined ? s.example : s.default;
      if (init === undefined) init = s.enum ? s.enum[0] : '';
      const el = s.enum
        ? h('select', {name: p.name}, s.enum.map((v) => h('option', {value: v}, v)))
        : h('input', {type: 'text', name: p.name, placeholder: p.required ? 'required' : 'optional'});
      el.value = String(init);
      fields.set(p.in + ':' + p.name, el);
      return h('label', {class: 'field'}, h('span', null, p.name + ' (' + p.in + ')'), el);
    });
    let body = null;
    const rb = deref(requestBody);
    if (rb && rb.content && Object.keys(rb.content).length) {
      const types = Object.keys(rb.content);
      const editors = {};
      for (const t of types) editors[t] = bodyEditor(t, rb.content[t] || {});
      const sel = h('select', {class: 'ctype-select', 'aria-label': 'Content-Type'}, types.map((t) => h('option', {value: t}, t)));
      const show = () => { for (const t of types) editors[t].el.hidden = t !== sel.value; };
      sel.addEventListener('change', show);
      show();
      body = {sel, editors, el: h('div', null, h('label', {class: 'field'}, h('span', null, 'Content-Type'), sel), types.map((t) => editors[t].el))};
      // A path parameter whose value names an example (a model name) selects that example.
      for (const p of params) {
        if (p.in !== 'path') continue;
        const f = fields.get('path:' + p.name);
        const pick = () => { for (const t of types) editors[t].pick(f.value); };
        f.addEventListener('change', pick);
        pick();
      }
    }
    const out = h('div', {class: 'result', hidden: true});
    const btn = h('button', {type: 'button', class: 'try'}, 'Try it');
    async function run() {
      const headers = {};
      const query = new URLSearchParams();
      let url = path.replace(/\{([^}]+)\}/g, (m, n) => encodeURIComponent((fields.get('path:' + n) || {value: ''}).value));
      for (const p of params) {
        const v = fields.get(p.in + ':' + p.name).value;
        if (v === '' || p.in === 'path') continue;
        if (p.in === 'query') query.append(p.name, v);
        else if (p.in === 'header') headers[p.name] = v;
      }
      if ([...query].length) url += '?' + query;
      const init = {method: method.toUpperCase(), headers};
      if (body) {
        const b = body.editors[body.sel.value].get();
        init.body = b.body;
        if (b.ct) headers['Content-Type'] = b.ct;
      }
      btn.disabled = true;
      out.hidden = false;
      out.replaceChildren(h('span', {class: 'code'}, 'sending ' + init.method + ' ' + url));
      const t0 = performance.now();
      try {
        const r = await fetch(base + url, init);
        const buf = await r.arrayBuffer();
        showResponse(out, r, buf, performance.now() - t0);
        return r.status;
      } catch (e) {
        out.replaceChildren(h('span', {class: 'code error'}, 'error: ' + e.message));
        return 'error: ' + e.message;
      } finally {
        btn.disabled = false;
      }
    }
    btn.addEventListener('click', run);
    return {el: h('div', {class: 'tryit'}, h('h4', null, 'Try it'), rows, body ? body.el : null, btn, out), run};
  }

  function opView(path, method, op, shared) {
    const key = method + '-' + path;
    const label = method.toUpperCase() + ' ' + path;
    const params = mergeParams(shared, op.parameters);
    const tp = tryPanel(method, path, params, op.requestBody);
    const el = h('details', {class: 'op ' + method, id: key, 'data-op': label},
      h('summary', null, h('span', {class: 'method'}, method.toUpperCase()), ' ', h('code', {class: 'path'}, path),
        ' ', h('span', {class: 'summary'}, op.summary || ''), op.deprecated ? h('span', {class: 'notes'}, ' deprecated') : null),
      h('div', {class: 'op-body'}, op.description ? text(op.description) : null,
        op.operationId ? h('div', {class: 'notes'}, 'operationId: ' + op.operationId) : null,
        paramsView(params), bodyView(op.requestBody), responsesView(op.responses), tp.el));
    tries.set(key, {el, run: tp.run});
    return el;
  }

  function render() {
    const info = spec.info || {};
    $('title').textContent = (info.title || 'API') + ' API';
    document.title = $('title').textContent;
    $('version').textContent = 'version ' + (info.version || '?') + ' \u00b7 OpenAPI ' + spec.openapi + ' \u00b7';
    $('description').replaceWith(text(info.description, 'desc'));
    const groups = new Map();
    for (const t of spec.tags || []) groups.set(t.name, {tag: t, ops: []});
    for (const path in spec.paths || {}) {
      const item = deref(spec.paths[path]) || {};
      for (const m of METHODS) {
        if (!item[m]) continue;
        const tag = (item[m].tags && item[m].tags[0]) || 'default';
        if (!groups.has(tag)) groups.set(tag, {tag: {name: tag}, ops: []});
        groups.get(tag).ops.push(opView(path, m, item[m], item.parameters));
      }
    }
    const main = $('doc');
    for (const g of groups.values()) {
      if (g.ops.length) main.append(h('section', {class: 'tag'}, h('h2', null, g.tag.name), g.tag.description ? text(g.tag.description) : null, g.ops));
    }
    const schemas = (spec.components && spec.components.schemas) || {};
    main.append(h('section', {class: 'tag schemas'}, h('h2', null, 'Schemas'), Object.keys(schemas).map((n) =>
      h('details', {class: 'model', id: 'schema-' + n}, h('summary', null, n),
        schemaView({$ref: '#/components/schemas/' + n.replace(/~/g, '~0').replace(/\//g, '~1')})))));
  }

  async function autoTry() {
    const m = /(?:^#|&)try=([^&]*)/.exec(location.hash);
    if (!m) return;
    const out = $('try-status');
    const key = decodeURIComponent(m[1]);
    const dash = key.indexOf('-');
    const t = tries.get(key.slice(0, dash).toLowerCase() + key.slice(dash));
    if (!t) {
      out.textContent = 'error: no operation ' + key;
      return;
    }
    t.el.open = true;
    out.textContent = 'running';
    out.textContent = String(await t.run());
  }

  async function main() {
    const status = $('status');
    try {
      const r = await fetch('/openapi.json', {headers: {Accept: 'application/json'}});
      if (!r.ok) throw new Error('GET /openapi.json answered ' + r.status);
      spec = await r.json();
      checkRefs(spec);
      const url = spec.servers && spec.servers[0] && spec.servers[0].url;
      base = typeof url === 'string' && url.startsWith('/') ? url.replace(/\/+$/, '') : '';
      render();
      status.textContent = 'ok';
      status.className = 'ok';
    } catch (e) {
      status.textContent = 'error: ' + (e && e.message ? e.message : e);
      status.className = 'error';
      return;
    }
    try {
      await autoTry();
    } catch (e) {
      $('try-status').textContent = 'error: ' + e.message;
    }
  }
  main();
})();
