/*
 * <storestream-insights>: the search analytics report (GET /api/analytics/search) as tables
 * and small inline SVG charts, for /admin/insights. The admin token is asked once per tab
 * (kept in sessionStorage, the key the other admin page uses) and sent only to this origin.
 */
(() => {
  'use strict';

  const TOKEN_KEY = 'storestream.adminToken';
  const SVG = 'http://www.w3.org/2000/svg';
  const PERIODS = [1, 7, 30, 90];

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : value);
    }
    el.append(...children.filter((c) => c !== null && c !== undefined));
    return el;
  }

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
      this.tokenInput = h('input', { type: 'password', autocomplete: 'off', 'aria-label': 'Admin token', required: true, class: 'ss-input' });
      this.tokenForm = h('form', { class: 'ss-token-form', onsubmit: (e) => { e.preventDefault(); this.saveToken(); } },
        h('label', null, 'Admin token ', this.tokenInput), h('button', { type: 'submit', class: 'ss-button', text: 'Use token' }));
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

    get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

    saveToken() {
      const value = this.tokenInput.value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      this.tokenInput.value = '';
      this.enter();
    }

    forget() {
      sessionStorage.removeItem(TOKEN_KEY);
      this.tokenForm.hidden = false;
      this.controls.hidden = true;
      this.body.replaceChildren();
      this.tokenInput.focus();
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

  if (!customElements.get('storestream-insights')) customElements.define('storestream-insights', StorestreamInsights);
})();
