/*
 * <storestream-insights>: the search analytics report (GET /api/analytics/search) as tables
 * and small inline SVG charts, for /admin/insights. The admin token is asked once per tab
 * and sent only to this origin (storestream.js's `adminToken`, shared with the uploader:
 * load storestream.js first).
 *
 * <storestream-merchandising>: the merchant's synonyms and search rules (/api/merchandising),
 * listed, added and deleted, on the same page and with the same token (it loads when the
 * insights element has one: the `storestream-admin-token` event).
 */
(() => {
  'use strict';

  const { h, adminToken } = window.storestream;
  const SVG = 'http://www.w3.org/2000/svg';
  const PERIODS = [1, 7, 30, 90];

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
    el.append(...children);
    return el;
  }

  const percent = (rate) => (rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`);
  const number = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en'));

  /** Bars (one per day) of `key`, with the day and value as each bar's title. */
  function bars(days, key, label, format) {
    const width = 320, height = 90, gap = 2;
    const top = Math.max(0, ...days.map((d) => Number(d[key]) || 0));
    const max = top || 1;
    const step = width / Math.max(1, days.length);
    const svg = s('svg', { viewBox: `0 0 ${width} ${height + 14}`, class: 'ins-chart', role: 'img', 'aria-label': label });
    days.forEach((d, i) => {
      const value = Number(d[key]) || 0;
      const barHeight = Math.round((value / max) * height);
      svg.append(s('rect', { x: (i * step + gap / 2).toFixed(1), y: height - barHeight, width: Math.max(1, step - gap).toFixed(1),
        height: barHeight, class: 'ins-bar', 'data-day': d.day, 'data-value': value }, s('title', {}, `${d.day}: ${format(d[key])}`)));
    });
    svg.append(s('text', { x: 0, y: height + 12, class: 'ins-axis' }, days.length ? days[0].day : ''));
    svg.append(s('text', { x: width, y: height + 12, class: 'ins-axis', 'text-anchor': 'end' }, days.length ? days[days.length - 1].day : ''));
    return h('figure', { class: 'ins-figure' }, svg, h('figcaption', { text: `${label} (highest ${format(top)})` }));
  }

  function table(caption, columns, rows) {
    return h('table', { class: 'ins-table' },
      h('caption', { text: caption }),
      h('thead', null, h('tr', null, ...columns.map(([title]) => h('th', { scope: 'col', text: title })))),
      h('tbody', null, ...(rows.length ? rows.map((row) => h('tr', null, ...columns.map(([, cell]) => h('td', { text: cell(row) }))))
        : [h('tr', null, h('td', { colspan: columns.length, text: 'None in this period' }))])));
  }

  class StorestreamInsights extends HTMLElement {
    connectedCallback() {
      if (this.built) return;
      this.built = true;
      this.classList.add('ss-widget', 'ss-admin'); // the widgets' look (storestream.css)
      adminToken.form(this);
      this.period = h('select', { 'aria-label': 'Period', onchange: () => this.load() },
        ...PERIODS.map((d) => h('option', { value: d, selected: d === 7, text: d === 1 ? 'Today' : `Last ${d} days` })));
      this.controls = h('p', { class: 'ins-controls', hidden: true }, this.period, ' ',
        h('button', { type: 'button', class: 'ss-button ss-secondary', text: 'Refresh', onclick: () => this.load() }), ' ',
        h('button', { type: 'button', class: 'ss-button ss-secondary', text: 'Forget token', onclick: () => this.forget() }));
      this.status = h('p', { class: 'ss-status', role: 'alert' });
      this.body = h('div', { class: 'ins-report' });
      this.replaceChildren(this.tokenForm, this.controls, this.status, this.body);
      if (this.token) this.enter(); else this.tokenInput.focus();
    }

    get token() { return adminToken.get(); }

    forget() {
      this.controls.hidden = true;
      this.body.replaceChildren();
      adminToken.ask(this);
    }

    enter() {
      this.tokenForm.hidden = true;
      this.controls.hidden = false;
      this.load();
    }

    async load() {
      this.dataset.state = 'loading';
      this.status.textContent = '';
      let response;
      try {
        response = await fetch(`/api/analytics/search?days=${this.period.value}`, { headers: { Authorization: `Bearer ${this.token}` } });
      } catch (_) {
        this.fail('The report could not be reached.');
        return;
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) this.forget();
        this.fail(body.error || `The report failed (${response.status}).`);
        return;
      }
      this.render(body);
      this.dataset.state = 'done';
    }

    fail(message) {
      this.dataset.state = 'error';
      this.status.textContent = message;
    }

    render(report) {
      const t = report.totals;
      const figures = [['Searches', number(t.searches)], ['No results', percent(t.no_result_rate)],
        ['Click-through rate', percent(t.click_through_rate)], ['Conversion rate', percent(t.conversion_rate)],
        ['Mean click position', t.mean_click_position === null ? '–' : t.mean_click_position.toFixed(1)]];
      const days = report.days;
      this.body.replaceChildren(
        h('dl', { class: 'ins-totals' }, ...figures.map(([name, value]) => h('div', null, h('dt', { text: name }), h('dd', { text: value, 'data-figure': name })))),
        h('div', { class: 'ins-charts' },
          bars(days, 'searches', 'Searches per day', number),
          bars(days, 'click_through_rate', 'Click-through rate per day', percent),
          bars(days, 'conversion_rate', 'Conversion rate per day', percent),
          bars(days, 'no_result_rate', 'Searches without results per day', percent)),
        table('Top queries', [['Query', (r) => r.query], ['Searches', (r) => number(r.count)], ['Mean results', (r) => number(r.mean_results)]],
          report.top_queries),
        table('Queries without results', [['Query', (r) => r.query], ['Searches', (r) => number(r.count)]], report.no_result_queries),
        table('Per day', [['Day', (r) => r.day], ['Searches', (r) => number(r.searches)], ['No results', (r) => number(r.no_results)],
          ['Click-through', (r) => percent(r.click_through_rate)], ['Conversion', (r) => percent(r.conversion_rate)],
          ['Mean click position', (r) => (r.mean_click_position === null ? '–' : r.mean_click_position.toFixed(1))]], days.slice().reverse()),
      );
    }
  }

  const ACTIONS = { pin: 'Pin a product at a position', hide: 'Hide a product', boost: 'Boost by an attribute',
    bury: 'Bury by an attribute' };

  /** What a rule does, in words, for the list. */
  function ruleWords(rule) {
    const when = [rule.query ? `query ${rule.match === 'contains' ? 'holds' : 'is'} "${rule.query}"` : '',
      ...Object.entries(rule.filters || {}).map(([k, v]) => `${k} = ${v}`)].filter(Boolean).join(' and ') || 'every search';
    const does = [...(rule.pins || []).map((p) => `pin ${p.sku} at ${p.position}`), ...(rule.hide || []).map((sku) => `hide ${sku}`),
      ...(rule.boosts || []).map((b) => `${b.weight > 0 ? 'boost' : 'bury'} ${b.field} = ${b.value} (${b.weight})`)].join(', ');
    return [when, does];
  }

  class StorestreamMerchandising extends HTMLElement {
    connectedCallback() {
      if (this.built) return;
      this.built = true;
      this.classList.add('ss-widget', 'ss-admin');
      this.status = h('p', { class: 'ss-status', role: 'alert' });
      this.lists = h('div', { class: 'merch-lists' });
      const field = (label, input) => h('label', { class: 'merch-field' }, `${label} `, input);
      this.syn = { id: h('input', { class: 'ss-input', required: true, pattern: '[A-Za-z0-9._-]+', 'aria-label': 'Synonym id' }),
        terms: h('input', { class: 'ss-input', required: true, 'aria-label': 'Phrases, comma-separated' }),
        oneWay: h('input', { type: 'checkbox', 'aria-label': 'One-way' }) };
      const synForm = h('form', { class: 'merch-form', 'aria-label': 'Add a synonym', onsubmit: (e) => { e.preventDefault(); this.saveSynonym(); } },
        h('h3', { text: 'Synonyms' }), field('Id', this.syn.id), field('Phrases (comma-separated)', this.syn.terms),
        field('One-way (the first finds the others)', this.syn.oneWay), h('button', { type: 'submit', class: 'ss-button', text: 'Save synonym' }));
      this.rule = { id: h('input', { class: 'ss-input', required: true, pattern: '[A-Za-z0-9._-]+', 'aria-label': 'Rule id' }),
        query: h('input', { class: 'ss-input', 'aria-label': 'When the query' }),
        match: h('select', { 'aria-label': 'Match' }, h('option', { value: 'exact', text: 'is' }), h('option', { value: 'contains', text: 'holds' })),
        action: h('select', { 'aria-label': 'Action' }, ...Object.entries(ACTIONS).map(([v, t]) => h('option', { value: v, text: t }))),
        sku: h('input', { class: 'ss-input', 'aria-label': 'SKU' }),
        position: h('input', { class: 'ss-input', type: 'number', min: 1, value: 1, 'aria-label': 'Position' }),
        attribute: h('input', { class: 'ss-input', 'aria-label': 'Attribute', placeholder: 'brand, in_stock, attributes.margin' }),
        value: h('input', { class: 'ss-input', 'aria-label': 'Value' }),
        weight: h('input', { class: 'ss-input', type: 'number', min: 0.1, step: 0.1, value: 1, 'aria-label': 'Weight' }) };
      const r = this.rule;
      const ruleForm = h('form', { class: 'merch-form', 'aria-label': 'Add a rule', onsubmit: (e) => { e.preventDefault(); this.saveRule(); } },
        h('h3', { text: 'Rules' }), field('Id', r.id), field('When the query', r.match), r.query, field('Do', r.action),
        field('SKU', r.sku), field('Position', r.position), field('Attribute', r.attribute), field('Value', r.value),
        field('Weight', r.weight), h('button', { type: 'submit', class: 'ss-button', text: 'Save rule' }));
      this.replaceChildren(h('h2', { text: 'Merchandising' }), this.status, this.lists, synForm, ruleForm);
      this.onToken = () => this.load();
      document.addEventListener('storestream-admin-token', this.onToken);
      if (adminToken.get()) this.load();
    }

    disconnectedCallback() { document.removeEventListener('storestream-admin-token', this.onToken); }

    async call(method, path, body) {
      const headers = { Authorization: `Bearer ${adminToken.get()}` };
      if (body) headers['Content-Type'] = 'application/json';
      const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
      const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.field ? `${answer.error} (${answer.field})` : answer.error || `failed (${response.status})`);
      return answer;
    }

    async run(work) {
      this.status.textContent = '';
      this.dataset.state = 'loading';
      try {
        await work();
        await this.load();
      } catch (error) {
        this.status.textContent = error.message;
        this.dataset.state = 'error';
      }
    }

    async load() {
      let listed;
      try {
        listed = await this.call('GET', '/api/merchandising');
      } catch (error) {
        this.status.textContent = error.message;
        this.dataset.state = 'error';
        return;
      }
      const remove = (kind, id) => h('button', { type: 'button', class: 'ss-button ss-secondary', text: 'Delete',
        'aria-label': `Delete ${id}`, onclick: () => this.run(() => this.call('DELETE', `/api/merchandising/${kind}/${encodeURIComponent(id)}`)) });
      const listing = (caption, kind, columns, items) => h('table', { class: 'ins-table', 'aria-label': caption },
        h('caption', { text: caption }),
        h('thead', null, h('tr', null, ...columns.map(([title]) => h('th', { scope: 'col', text: title })), h('th', { scope: 'col' }))),
        h('tbody', null, ...(items.length
          ? items.map((x) => h('tr', { 'data-id': x.id }, ...columns.map(([, cell]) => h('td', { text: cell(x) })), h('td', null, remove(kind, x.id))))
          : [h('tr', null, h('td', { colspan: columns.length + 1, text: 'None yet' }))])));
      this.lists.replaceChildren(
        listing('Synonyms', 'synonyms', [['Id', (x) => x.id], ['Phrases', (x) => x.terms.join(x.one_way ? ' → ' : ' = ')]], listed.synonyms),
        listing('Rules', 'rules', [['Id', (x) => x.id], ['When', (x) => ruleWords(x)[0]], ['Does', (x) => ruleWords(x)[1]]], listed.rules));
      this.dataset.state = 'done';
    }

    saveSynonym() {
      const s = this.syn;
      const terms = s.terms.value.split(',').map((t) => t.trim()).filter(Boolean);
      this.run(() => this.call('PUT', `/api/merchandising/synonyms/${encodeURIComponent(s.id.value.trim())}`,
        { terms, one_way: s.oneWay.checked }));
    }

    saveRule() {
      const r = this.rule;
      const body = { match: r.match.value };
      if (r.query.value.trim()) body.query = r.query.value.trim();
      const action = r.action.value;
      const weight = Number(r.weight.value) || 1;
      if (action === 'pin') body.pins = [{ sku: r.sku.value.trim(), position: Number(r.position.value) || 1 }];
      else if (action === 'hide') body.hide = [r.sku.value.trim()];
      else body.boosts = [{ field: r.attribute.value.trim(), value: r.value.value.trim(), weight: action === 'bury' ? -weight : weight }];
      this.run(() => this.call('PUT', `/api/merchandising/rules/${encodeURIComponent(r.id.value.trim())}`, body));
    }
  }

  if (!customElements.get('storestream-insights')) customElements.define('storestream-insights', StorestreamInsights);
  if (!customElements.get('storestream-merchandising')) customElements.define('storestream-merchandising', StorestreamMerchandising);
})();

