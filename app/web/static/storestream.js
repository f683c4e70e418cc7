/*
 * storestream web components: <storestream-search>, <storestream-chat> and
 * <storestream-context-admin>. Plain modern JavaScript, no build step, no dependencies.
 *
 * A CLASSIC script, not an ES module, on purpose: a storefront on another origin embeds the
 * widgets with one tag, <script src="https://platform.example/static/storestream.js">, and a
 * cross-origin module script would need CORS on the script itself (refused for origins not in
 * CORS_ALLOWED_ORIGINS, so the widget could not even say what went wrong).
 *
 * Safety rule for the whole file: text from the catalog or from a model only ever reaches the
 * DOM through textContent / setAttribute, never as markup (no innerHTML anywhere).
 *
 * The event vocabulary is the platform's (docs/events.md): connected, progress, results,
 * text, audio, complete, error, close.
 */
(() => {
  'use strict';

  const SCRIPT = document.currentScript;
  // Where this file came from: the stylesheet and the placeholder images live next to it.
  const ASSETS = new URL('.', SCRIPT && SCRIPT.src ? SCRIPT.src : location.href).href;

  // One stylesheet link for every widget on the page (skipped when the page already has one,
  // or opted out with <script data-css="none">).
  if (!(SCRIPT && SCRIPT.dataset.css === 'none') && !document.querySelector('link[data-storestream]')) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('storestream.css', ASSETS).href;
    link.dataset.storestream = '';
    document.head.appendChild(link);
  }

  // -- small helpers ------------------------------------------------------------------------

  /** Build an element. `props`: attributes (strings), `on*` listeners, `text` for textContent. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') el.textContent = String(value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const sleep = (ms, signal) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

  const priceFormats = new Map();
  function formatPrice(amount, currency) {
    if (typeof amount !== 'number' || !Number.isFinite(amount)) return '';
    const code = /^[A-Z]{3}$/.test(currency || '') ? currency : 'INR';
    const whole = Number.isInteger(amount);
    const key = `${code}:${whole}`;
    if (!priceFormats.has(key)) {
      // Indian digit grouping (₹1,23,456); no ".00" on whole-rupee prices.
      priceFormats.set(key, new Intl.NumberFormat('en-IN', {
        style: 'currency', currency: code, minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: 2,
      }));
    }
    return priceFormats.get(key).format(amount);
  }

  /** The platform's base URL: the `api` attribute, else this page's origin. */
  function apiUrl(element, path) {
    const base = (element.getAttribute('api') || '').trim();
    return new URL(path, base || location.href);
  }

  // Hebrew, Arabic, Syriac, Thaana, N'Ko ... and the Arabic presentation forms.
  const RTL_CHARS = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/g;
  const LTR_CHARS = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF\u0900-\u097F]/g;
  /** 'rtl' when most letters are from a right-to-left script. */
  function scriptDirection(text) {
    const rtl = (text.match(RTL_CHARS) || []).length;
    const ltr = (text.match(LTR_CHARS) || []).length;
    return rtl > ltr ? 'rtl' : 'ltr';
  }

  function secondsText(seconds) {
    if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
    return `${Math.ceil(seconds / 60)} minutes`;
  }

  /**
   * A refusal before a stream started (4xx/5xx JSON body `{status, error, code}`), turned into
   * words for the shopper. 429 says when to try again (Retry-After, or the body's retry_after).
   */
  async function describeRefusal(response) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON: the status says enough */ }
    const header = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    const retryAfter = Number.isFinite(header) ? header : (Number.isFinite(body.retry_after) ? body.retry_after : null);
    if (response.status === 429) {
      const wait = Math.max(1, retryAfter || 1);
      const at = new Date(Date.now() + wait * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      return {
        status: 429, code: body.code || 'RATE_LIMITED', retryAfter: wait,
        message: `Too many requests right now. Please try again in ${secondsText(wait)} (at ${at}).`,
      };
    }
    const message = typeof body.error === 'string' && body.error ? body.error : `The request failed (HTTP ${response.status}).`;
    const suffix = retryAfter && response.status >= 500 ? ` Try again in ${secondsText(retryAfter)}.` : '';
    return { status: response.status, code: body.code || `HTTP_${response.status}`, retryAfter, message: message + suffix };
  }

  const UNREACHABLE = 'The service could not be reached (the network failed, or this site is not allowed to use it).';

  /**
   * Server-Sent Events from a fetch() body: an async generator of {id, event, data}.
   * Follows the text/event-stream rules (LF, CR or CRLF line ends; `:` comments such as the
   * `: ping` keep-alives; data lines joined by "\n"; no dispatch for an empty data buffer).
   * `retry` fields are reported through `onRetry`.
   */
  async function* readEventStream(body, onRetry) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let type = '';
    let data = [];
    let id = null;
    const takeLine = function* (line) {
      if (line === '') {
        if (data.length) yield { id, event: type || 'message', data: data.join('\n') };
        type = ''; data = [];
        return;
      }
      if (line.startsWith(':')) return;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^\d+$/.test(value) && onRetry) onRetry(Number(value));
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        // A CR at the very end may be the first half of a CRLF split across two chunks.
        const held = buffer.endsWith('\r') ? '\r' : '';
        const lines = (held ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
        buffer = lines.pop() + held;
        for (const line of lines) yield* takeLine(line);
      }
      buffer += decoder.decode();
      // An unterminated last event is discarded, as the spec says: the stream was cut.
    } finally {
      reader.releaseLock();
    }
  }

  function parseData(raw) {
    try { return JSON.parse(raw); } catch (_) { return {}; }
  }

  // -- safe Markdown --------------------------------------------------------------------------

  /** Inline Markdown (**bold**, *italic*, `code`) as DOM nodes; everything else stays text. */
  function inline(text) {
    const nodes = [];
    const pattern = /\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|`([^`]+)`/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined || match[2] !== undefined) nodes.push(h('strong', { text: match[1] ?? match[2] }));
      else if (match[3] !== undefined) nodes.push(h('em', { text: match[3] }));
      else nodes.push(h('code', { text: match[4] }));
      last = match.index + match[0].length;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  /** Paragraphs, line breaks, bullet and numbered lists. Built from nodes, never from HTML. */
  function renderMarkdown(target, text) {
    const blocks = [];
    let list = null;
    let paragraph = null;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/\s+$/, '');
      const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        const tag = bullet ? 'ul' : 'ol';
        if (!list || list.tagName.toLowerCase() !== tag) { list = h(tag); blocks.push(list); }
        list.append(h('li', null, inline((bullet || numbered)[1])));
        paragraph = null;
      } else if (line.trim() === '') {
        list = null; paragraph = null;
      } else {
        list = null;
        if (paragraph) paragraph.append(h('br'));
        else { paragraph = h('p'); blocks.push(paragraph); }
        paragraph.append(...inline(line));
      }
    }
    target.replaceChildren(...blocks);
  }

  // -- product cards --------------------------------------------------------------------------

  function imageUrl(element, card) {
    const fallback = new URL('products/generic.svg', ASSETS).href;
    if (typeof card.image_url !== 'string' || !card.image_url) return fallback;
    try {
      const url = apiUrl(element, card.image_url);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : fallback;
    } catch (_) {
      return fallback;
    }
  }

  function productCard(element, card) {
    const colours = Array.isArray(card.colors) ? card.colors.map(String) : [];
    const sizes = Array.isArray(card.sizes) ? card.sizes.map(String) : [];
    const img = h('img', { src: imageUrl(element, card), alt: '', loading: 'lazy', width: 160, height: 160 });
    // A broken catalog image becomes the generic placeholder, once.
    img.addEventListener('error', () => {
      const fallback = new URL('products/generic.svg', ASSETS).href;
      if (img.src !== fallback) img.src = fallback;
    }, { once: true });
    const rating = typeof card.rating === 'number' ? card.rating : null;
    return h('li', { class: 'ss-card', 'data-sku': card.sku || '' },
      img,
      h('div', { class: 'ss-card-body' },
        h('h3', { class: 'ss-card-title', text: card.title || card.sku || '' }),
        card.brand ? h('p', { class: 'ss-card-brand', text: card.brand }) : null,
        h('p', { class: 'ss-card-price', text: formatPrice(card.price, card.currency) }),
        rating !== null ? h('p', { class: 'ss-card-rating', 'aria-label': `Rated ${rating.toFixed(1)} out of 5` },
          h('span', { 'aria-hidden': 'true', text: '★ ' }), rating.toFixed(1)) : null,
        colours.length ? h('p', { class: 'ss-card-colours' }, h('span', { class: 'ss-label', text: 'Colours: ' }),
          ...colours.map((c, i) => [i ? ', ' : '', h('span', { class: 'ss-colour', 'data-value': c, text: c })])) : null,
        sizes.length ? h('p', { class: 'ss-card-sizes' }, h('span', { class: 'ss-label', text: 'Sizes: ' }),
          ...sizes.map((s, i) => [i ? ', ' : '', h('span', { class: 'ss-size', 'data-value': s, text: s })])) : null,
        card.in_stock === false ? h('p', { class: 'ss-card-stock', text: 'Out of stock' }) : null,
      ),
    );
  }

  // -- <storestream-search> -------------------------------------------------------------------

  const SEARCH_STEPS = { text_search: 'Matching words', vector_search: 'Matching meaning', filters: 'Applying filters' };
  const DEBOUNCE_MS = 250;

  /**
   * Search as you type over EventSource (GET /api/products/search/stream).
   * Attributes: query (start with this search), api (platform base URL), limit, placeholder.
   * State for styling and tests: data-state = idle | loading | done | error, data-stage = text | final.
   */
  class StorestreamSearch extends HTMLElement {
    static get observedAttributes() { return ['query']; }

    constructor() {
      super();
      this.source = null;
      this.timer = null;
      this.generation = 0; // counts searches: a late answer for an older one is dropped
      this.filters = {}; // {color?, size?, price?: {label, min, max}}
      this.built = false;
    }

    connectedCallback() {
      if (!this.built) this.build();
      const query = (this.getAttribute('query') || '').trim();
      if (query && !this.source) { this.input.value = query; this.search(); }
    }

    disconnectedCallback() {
      clearTimeout(this.timer);
      this.stop();
    }

    attributeChangedCallback(name, _old, value) {
      if (!this.built || name !== 'query') return;
      this.input.value = value || '';
      this.search();
    }

    build() {
      this.built = true;
      this.classList.add('ss-widget', 'ss-search');
      this.dataset.state = 'idle';
      this.input = h('input', {
        type: 'search', class: 'ss-input', 'aria-label': 'Search products', autocomplete: 'off',
        placeholder: this.getAttribute('placeholder') || 'Search: red silk lehenga under 20000',
        oninput: () => this.schedule(),
      });
      const form = h('form', { class: 'ss-search-form', role: 'search', onsubmit: (e) => { e.preventDefault(); this.search(); } },
        this.input, h('button', { type: 'submit', class: 'ss-button', text: 'Search' }));
      this.steps = h('ol', { class: 'ss-steps', 'aria-label': 'Search progress' });
      this.status = h('p', { class: 'ss-status', role: 'status', 'aria-live': 'polite' });
      this.chips = h('div', { class: 'ss-chips', role: 'group', 'aria-label': 'Filters' });
      this.cards = h('ul', { class: 'ss-cards', 'aria-label': 'Products' });
      this.replaceChildren(form, this.steps, this.status, this.chips, this.cards);
    }

    schedule() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
    }

    /** Close the current EventSource: its events are ignored from here on. (A pending
     *  debounced search is left alone: it is for newer typing than this stream's.) */
    stop() {
      if (this.source) { this.source.close(); this.source = null; }
    }

    url(path) {
      const url = apiUrl(this, path);
      url.searchParams.set('q', this.input.value.trim());
      const limit = Number.parseInt(this.getAttribute('limit') || '', 10);
      if (limit > 0) url.searchParams.set('limit', String(Math.min(limit, 50)));
      if (this.filters.color) url.searchParams.set('color', this.filters.color);
      if (this.filters.size) url.searchParams.set('size', this.filters.size);
      if (this.filters.price) {
        url.searchParams.set('min_price', String(this.filters.price.min));
        if (this.filters.price.max !== null && this.filters.price.max !== undefined) {
          url.searchParams.set('max_price', String(this.filters.price.max));
        }
      }
      return url;
    }

    search() {
      clearTimeout(this.timer);
      this.stop();
      this.generation += 1;
      const q = this.input.value.trim();
      this.steps.replaceChildren();
      this.say('');
      if (!q) {
        this.cards.replaceChildren(); this.chips.replaceChildren();
        this.dataset.state = 'idle';
        return;
      }
      this.dataset.state = 'loading';
      delete this.dataset.stage;
      const url = this.url('/api/products/search/stream');
      const source = new EventSource(url.href);
      this.source = source;
      let started = false;
      // Events of a source we have since replaced are ignored (a newer query owns the widget).
      const on = (type, handler) => source.addEventListener(type, (event) => {
        if (this.source === source) handler(parseData(event.data));
      });
      on('connected', () => { started = true; });
      on('progress', (data) => this.step(data));
      on('results', (data) => {
        if (data.type !== 'product_cards') return;
        this.show(data.products || [], data.stage || 'final', data.total);
        if (data.stage !== 'text') this.renderChips(data.facets || {});
      });
      on('complete', () => { this.dataset.state = 'done'; this.stop(); });
      // `close` ends the stream: closing the EventSource stops it reconnecting and re-running
      // the search (EventSource otherwise reconnects after every stream end).
      on('close', () => { if (this.dataset.state === 'loading') this.dataset.state = 'done'; this.stop(); });
      source.addEventListener('error', (event) => {
        if (this.source !== source) return;
        if (event instanceof MessageEvent && event.data) { // the server's own `error` event
          const data = parseData(event.data);
          if (data.fatal === false) return;
          this.fail(data.message || 'The search failed.');
          this.stop();
        } else if (source.readyState === EventSource.CLOSED) {
          // Refused (non-200: 429, 400, 503...) or unreachable: EventSource does not say
          // which, so ask the JSON twin once.
          this.stop();
          this.diagnose(this.generation);
        } else {
          // EventSource retries by itself, resuming with Last-Event-ID once it had events.
          this.say(started ? 'Connection lost; reconnecting…' : 'Cannot reach the search service; retrying…');
        }
      });
    }

    /**
     * Why did the stream fail? The JSON twin answers the same question with a status and a
     * JSON body: a refusal is shown (429 with when to try again); a 200 means the stream
     * itself broke, and its results are shown anyway.
     */
    async diagnose(generation) {
      const superseded = () => this.generation !== generation; // a newer search started meanwhile
      let response;
      try {
        response = await fetch(this.url('/api/products/search').href, { headers: { Accept: 'application/json' } });
      } catch (_) {
        if (!superseded()) this.fail(UNREACHABLE);
        return;
      }
      if (superseded()) return;
      if (!response.ok) {
        const refusal = await describeRefusal(response);
        this.fail(refusal.message, refusal);
        return;
      }
      const body = await response.json().catch(() => ({}));
      this.show(body.products || [], 'final', body.total);
      this.renderChips(body.facets || {});
      this.dataset.state = 'done';
    }

    step(data) {
      const label = data.message || SEARCH_STEPS[data.step] || data.step || '';
      let item = this.steps.querySelector(`[data-step="${CSS.escape(String(data.step || ''))}"]`);
      if (!item) {
        item = h('li', { class: 'ss-step', 'data-step': data.step || '' });
        this.steps.append(item);
      }
      item.textContent = label;
    }

    show(products, stage, total) {
      this.dataset.stage = stage;
      this.cards.replaceChildren(...products.map((card) => productCard(this, card)));
      if (stage === 'final') {
        this.say(products.length ? `${total ?? products.length} products` : 'No products match. Try fewer words or other filters.');
      }
    }

    say(text) {
      this.status.textContent = text;
      this.status.classList.remove('ss-error');
    }

    fail(message, refusal) {
      this.dataset.state = 'error';
      // Cards of an earlier query under this one's error would read as its results.
      this.cards.replaceChildren();
      this.chips.replaceChildren();
      this.status.textContent = message;
      this.status.classList.add('ss-error');
      if (refusal && refusal.status === 429) this.dataset.retryAfter = String(refusal.retryAfter);
      else delete this.dataset.retryAfter;
    }

    renderChips(facets) {
      const groups = [];
      const chip = (field, label, value, pressed) => h('button', {
        type: 'button', class: 'ss-chip', 'data-field': field, 'data-value': label,
        'aria-pressed': pressed ? 'true' : 'false', text: label,
        onclick: () => this.toggle(field, value),
      });
      const group = (field, title, items) => {
        if (!items.length) return;
        groups.push(h('div', { class: 'ss-chip-group', 'data-field': field },
          h('span', { class: 'ss-chip-title', text: title }), ...items));
      };
      const simple = (field, facet) => {
        const values = (facets[facet] || []).map((f) => String(f.value));
        const active = this.filters[field];
        if (active && !values.includes(active)) values.unshift(active);
        return values.map((v) => chip(field, v, v, v === active));
      };
      group('color', 'Colour', simple('color', 'color'));
      group('size', 'Size', simple('size', 'size'));
      const bands = (facets.price || []).map((b) => ({ label: String(b.value), min: b.min ?? 0, max: b.max ?? null }));
      const activePrice = this.filters.price;
      if (activePrice && !bands.some((b) => b.label === activePrice.label)) bands.unshift(activePrice);
      group('price', 'Price', bands.map((b) => chip('price', b.label, b, activePrice && b.label === activePrice.label)));
      if (Object.keys(this.filters).length) {
        groups.push(h('button', { type: 'button', class: 'ss-chip ss-chip-clear', text: 'Clear filters',
          onclick: () => { this.filters = {}; this.search(); } }));
      }
      this.chips.replaceChildren(...groups);
    }

    /** A chip adds its filter as a query parameter (or removes it when already on) and re-runs. */
    toggle(field, value) {
      const same = field === 'price'
        ? this.filters.price && this.filters.price.label === value.label
        : this.filters[field] === value;
      if (same) delete this.filters[field];
      else this.filters[field] = value;
      this.search();
    }
  }

  // -- audio ----------------------------------------------------------------------------------

  /**
   * Plays a streamed answer's `audio` chunks (each a complete MP3) one after another in `seq`
   * order, whatever order they arrive in. Muting keeps the queue moving silently, so unmuting
   * continues at the sentence being spoken.
   */
  class AudioQueue {
    constructor(onChange) {
      this.onChange = onChange;
      this.muted = false;
      this.reset();
    }

    reset() {
      if (this.current) { this.current.pause(); URL.revokeObjectURL(this.current.src); }
      this.current = null;
      this.pending = new Map(); // seq -> {blob, text}
      this.next = null;
      this.received = [];
      this.played = [];
      this.blocked = false;
      this.onChange();
    }

    add(data) {
      const seq = Number(data.seq);
      if (!Number.isInteger(seq) || typeof data.chunk !== 'string') return;
      if (this.received.includes(seq)) return; // a replayed frame after a resume
      let bytes;
      try {
        const binary = atob(data.chunk);
        bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
      } catch (_) {
        return;
      }
      const format = String(data.format || 'mp3').toLowerCase();
      const type = format === 'mp3' ? 'audio/mpeg' : `audio/${format.replace(/[^a-z0-9]/g, '')}`;
      this.pending.set(seq, new Blob([bytes], { type }));
      this.received.push(seq);
      if (this.next === null) this.next = Math.min(...this.pending.keys());
      this.onChange();
      this.pump();
    }

    pump() {
      if (this.current || this.blocked || !this.pending.has(this.next)) return;
      const seq = this.next;
      const blob = this.pending.get(seq);
      this.pending.delete(seq);
      const audio = new Audio(URL.createObjectURL(blob));
      audio.muted = this.muted;
      this.current = audio;
      const done = () => {
        if (this.current !== audio) return;
        URL.revokeObjectURL(audio.src);
        this.current = null;
        this.next = seq + 1;
        this.onChange();
        this.pump();
      };
      audio.addEventListener('ended', done);
      audio.addEventListener('error', done);
      audio.play().then(() => {
        this.played.push(seq);
        this.onChange();
      }).catch((error) => {
        if (this.current !== audio) return;
        if (error && error.name === 'NotAllowedError') {
          // Autoplay refused (no user gesture yet): keep the chunk and wait for "Play".
          this.pending.set(seq, blob);
          this.current = null;
          this.blocked = true;
          this.onChange();
        } else {
          done();
        }
      });
    }

    resume() {
      this.blocked = false;
      this.pump();
    }

    setMuted(muted) {
      this.muted = muted;
      if (this.current) this.current.muted = muted;
      this.onChange();
    }

    get queued() { return this.pending.size; }
  }

  // -- <storestream-chat> ---------------------------------------------------------------------

  const MAX_RESUMES = 5;

  /**
   * A chat embed that streams answers over POST (fetch + a text/event-stream parser, since
   * EventSource cannot POST). Attributes: endpoint (/api/troika/intelligent-chat/stream or
   * /api/chat/query/stream), api (platform base URL), tts (speak answers from the start),
   * placeholder. For tests and hosts: `audioState` ({received, played, queued, muted}) and
   * data-audio-received / data-audio-played (seq lists), data-state = idle | streaming | done | error.
   */
  class StorestreamChat extends HTMLElement {
    constructor() {
      super();
      this.built = false;
      this.sessionId = null;
      this.controller = null;
      this.audio = new AudioQueue(() => this.audioChanged());
    }

    connectedCallback() {
      if (!this.built) this.build();
    }

    disconnectedCallback() {
      if (this.controller) this.controller.abort();
      this.audio.reset();
    }

    get endpoint() {
      return (this.getAttribute('endpoint') || '/api/chat/query/stream').trim();
    }

    get audioState() {
      return {
        received: [...this.audio.received], played: [...this.audio.played],
        queued: this.audio.queued, muted: this.audio.muted,
      };
    }

    build() {
      this.built = true;
      this.classList.add('ss-widget', 'ss-chat');
      this.dataset.state = 'idle';
      this.log = h('div', { class: 'ss-log', 'aria-label': 'Conversation' });
      this.typing = h('div', { class: 'ss-typing', hidden: true, 'aria-hidden': 'true' },
        h('span', { class: 'ss-dots' }, h('span'), h('span'), h('span')),
        h('span', { class: 'ss-typing-text', text: 'Thinking…' }));
      this.input = h('input', {
        type: 'text', class: 'ss-input', 'aria-label': 'Your message', autocomplete: 'off',
        placeholder: this.getAttribute('placeholder') || 'Ask about products, sizes, prices…',
      });
      this.sendButton = h('button', { type: 'submit', class: 'ss-button', text: 'Send' });
      // Enter in the input submits the form: keyboard-only use needs nothing more.
      const form = h('form', { class: 'ss-chat-form', onsubmit: (e) => { e.preventDefault(); this.send(this.input.value); } },
        this.input, this.sendButton);
      this.ttsBox = h('input', { type: 'checkbox', class: 'ss-tts', checked: this.hasAttribute('tts') });
      this.muteButton = h('button', {
        type: 'button', class: 'ss-button ss-secondary ss-mute', 'aria-pressed': 'false', text: 'Mute',
        onclick: () => this.toggleMute(),
      });
      this.playButton = h('button', {
        type: 'button', class: 'ss-button ss-secondary ss-play', hidden: true, text: 'Play answer',
        onclick: () => this.audio.resume(),
      });
      const controls = h('div', { class: 'ss-chat-controls' },
        h('label', { class: 'ss-tts-label' }, this.ttsBox, ' Speak answers'), this.muteButton, this.playButton);
      this.notice = h('p', { class: 'ss-status', role: 'status', 'aria-live': 'polite' });
      this.replaceChildren(this.log, this.typing, this.notice, form, controls);
    }

    toggleMute() {
      this.audio.setMuted(!this.audio.muted);
    }

    audioChanged() {
      if (!this.built) return;
      this.dataset.audioReceived = this.audio.received.join(',');
      this.dataset.audioPlayed = this.audio.played.join(',');
      this.muteButton.setAttribute('aria-pressed', String(this.audio.muted));
      this.muteButton.textContent = this.audio.muted ? 'Unmute' : 'Mute';
      this.playButton.hidden = !this.audio.blocked;
    }

    say(text, isError) {
      this.notice.textContent = text;
      this.notice.classList.toggle('ss-error', Boolean(isError));
    }

    body(text) {
      const enableTTS = this.ttsBox.checked;
      if (!this.sessionId) {
        // The plain chat keys conversations by a caller-chosen sessionId; the Troika agent
        // sends its own in `connected`, which then replaces this one.
        this.sessionId = (crypto.randomUUID ? crypto.randomUUID() : `s-${Date.now()}-${Math.random().toString(16).slice(2)}`);
      }
      if (/\/api\/chat\/query\/stream$/.test(new URL(this.endpoint, location.href).pathname)) {
        return { query: text, sessionId: this.sessionId, enableTTS };
      }
      const message = { message: text, sessionId: this.sessionId, enableTTS };
      const customer = this.getAttribute('customer');
      if (customer) { try { message.customer = JSON.parse(customer); } catch (_) { /* ignored: not JSON */ } }
      return message;
    }

    /** Ask a question and stream its answer (resuming with Last-Event-ID if the connection drops). */
    async send(raw) {
      const text = String(raw || '').trim();
      if (!text || this.dataset.state === 'streaming' || this.sendButton.disabled) return;
      this.input.value = '';
      this.say('');
      this.audio.reset();
      this.log.append(h('div', { class: 'ss-msg ss-msg-user', dir: 'auto', text }));
      const turn = new Turn(this);
      this.log.append(turn.el);
      this.log.scrollTop = this.log.scrollHeight;
      await this.stream(turn, this.body(text));
    }

    async stream(turn, body) {
      const controller = new AbortController();
      this.controller = controller;
      this.dataset.state = 'streaming';
      this.typing.querySelector('.ss-typing-text').textContent = 'Thinking…';
      this.typing.hidden = false;
      let retryMs = 3000;
      let resumes = 0;
      try {
        for (;;) {
          const headers = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
          if (turn.lastId) headers['Last-Event-ID'] = turn.lastId;
          let response;
          try {
            response = await fetch(apiUrl(this, this.endpoint).href, {
              method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal,
            });
          } catch (error) {
            if (controller.signal.aborted) return;
            if (turn.lastId && resumes < MAX_RESUMES) { resumes += 1; await this.waitToResume(retryMs, resumes, controller); continue; }
            turn.fail(UNREACHABLE, () => this.stream(turn, body));
            return;
          }
          if (response.status === 204) { turn.finish(); return; } // resumed after the end: nothing left
          if (!response.ok) {
            const refusal = await describeRefusal(response);
            turn.fail(refusal.message);
            if (refusal.status === 429) this.holdUntil(refusal.retryAfter);
            return;
          }
          if (!(response.headers.get('Content-Type') || '').startsWith('text/event-stream')) {
            turn.fail('The server did not answer with a stream.');
            return;
          }
          try {
            for await (const event of readEventStream(response.body, (ms) => { retryMs = ms; })) {
              if (event.id) turn.lastId = event.id;
              resumes = 0; // progress was made: the next drop gets the full number of retries
              this.handle(turn, event.event, parseData(event.data));
              if (turn.closed) return;
            }
          } catch (_) {
            if (controller.signal.aborted) return;
          }
          // The body ended without `close`: the connection dropped. The server holds the
          // frames; ask for the ones after the last id seen (the work does not run again).
          if (!turn.lastId || resumes >= MAX_RESUMES) {
            turn.fail('The connection was lost before the answer finished.', () => this.stream(turn, body));
            return;
          }
          resumes += 1;
          await this.waitToResume(retryMs, resumes, controller);
          if (controller.signal.aborted) return;
        }
      } finally {
        if (this.controller === controller) this.controller = null;
        this.typing.hidden = true;
        if (this.dataset.state === 'streaming') this.dataset.state = turn.failed ? 'error' : 'done';
        turn.settle();
      }
    }

    async waitToResume(retryMs, attempt, controller) {
      this.say('Connection lost; reconnecting…');
      this.dataset.resumes = String(Number(this.dataset.resumes || 0) + 1);
      await sleep(Math.min(retryMs * attempt, 15000), controller.signal);
      this.say('');
    }

    /** Run `render`, keeping the newest text in view unless the reader had scrolled up. */
    follow(render) {
      const log = this.log;
      const pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      render();
      if (pinned) log.scrollTop = log.scrollHeight;
    }

    /** After a 429: sending is disabled until the server said to try again. */
    holdUntil(seconds) {
      this.sendButton.disabled = true;
      setTimeout(() => { this.sendButton.disabled = false; this.say(''); }, Math.max(1, seconds) * 1000);
    }

    handle(turn, type, data) {
      switch (type) {
        case 'connected':
          if (typeof data.session_id === 'string' && data.session_id) this.sessionId = data.session_id;
          // `rtl` is trusted (the server knows the answer's language). `ltr` may be only a
          // default, so the answer's script still decides then.
          if (data.dir === 'rtl') turn.setDir('rtl', true);
          if (typeof data.language === 'string' && data.language) turn.el.setAttribute('lang', data.language);
          break;
        case 'progress':
          this.typing.querySelector('.ss-typing-text').textContent = data.message || 'Working…';
          if (data.step === 'tool') turn.tool(data);
          break;
        case 'results':
          this.follow(() => turn.results(data, (text) => this.send(text)));
          break;
        case 'text':
          this.follow(() => turn.text(data));
          break;
        case 'audio':
          this.audio.add(data);
          break;
        case 'error':
          if (data.fatal === false) turn.note(data.message || 'Something went wrong, but the answer goes on.');
          else turn.fail(data.message || 'The answer failed.');
          break;
        case 'complete':
          turn.finish();
          break;
        case 'close':
          turn.closed = true;
          break;
        default:
          break;
      }
    }
  }

  /** One line from the agent's market snapshot: how many match, the price spread, the budget. */
  function marketSummary(data) {
    if (typeof data.summary === 'string' && data.summary) return data.summary;
    if (typeof data.matching !== 'number') return '';
    const parts = [`${data.matching} matching (${data.in_stock ?? '?'} in stock)`];
    const price = data.price;
    if (price && typeof price.min === 'number') {
      parts.push(`prices ${formatPrice(price.min, data.currency)} – ${formatPrice(price.max, data.currency)}, median ${formatPrice(price.median, data.currency)}`);
    }
    if (data.budget && typeof data.budget.within === 'number') parts.push(`${data.budget.within} within your budget`);
    return `Market: ${parts.join(' · ')}`;
  }

  /** One question's answer in the chat log. */
  class Turn {
    constructor(chat) {
      this.chat = chat;
      this.lastId = null;
      this.closed = false;
      this.failed = false;
      this.fullText = '';
      this.dirFromServer = false;
      this.answer = h('div', { class: 'ss-answer', 'aria-live': 'polite', 'aria-busy': 'true' });
      this.tools = h('ul', { class: 'ss-tools', hidden: true, 'aria-label': 'Steps taken' });
      this.extra = h('div', { class: 'ss-extra' });
      this.cards = h('ul', { class: 'ss-cards ss-cards-compact', hidden: true, 'aria-label': 'Suggested products' });
      this.chips = h('div', { class: 'ss-suggestions', hidden: true, role: 'group', 'aria-label': 'Suggestions' });
      this.errorLine = h('p', { class: 'ss-status ss-error', hidden: true, role: 'alert' });
      this.el = h('div', { class: 'ss-msg ss-msg-bot', dir: 'ltr' },
        this.tools, this.answer, this.extra, this.cards, this.chips, this.errorLine);
    }

    setDir(dir, fromServer) {
      if (fromServer) this.dirFromServer = true;
      this.el.setAttribute('dir', dir);
    }

    tool(data) {
      this.tools.hidden = false;
      this.tools.append(h('li', { class: 'ss-tool', 'data-tool': data.tool || '', text: data.message || data.tool || '' }));
    }

    text(data) {
      this.fullText = typeof data.fullText === 'string' ? data.fullText : this.fullText + (data.token || '');
      // The server did not say `rtl`: judge by the script (a Persian answer from an endpoint
      // that sends no `dir`, or `ltr` by default).
      if (!this.dirFromServer) this.setDir(scriptDirection(this.fullText), false);
      renderMarkdown(this.answer, this.fullText);
    }

    results(data, ask) {
      switch (data.type) {
        case 'product_cards': {
          const products = Array.isArray(data.products) ? data.products : [];
          this.cards.replaceChildren(...products.map((card) => productCard(this.chat, card)));
          this.cards.hidden = products.length === 0;
          break;
        }
        case 'suggestions': {
          const items = Array.isArray(data.suggestions) ? data.suggestions.filter((s) => typeof s === 'string') : [];
          this.chips.replaceChildren(...items.map((s) => h('button', {
            type: 'button', class: 'ss-chip ss-suggestion', dir: 'auto', text: s, onclick: () => ask(s),
          })));
          this.chips.hidden = items.length === 0;
          break;
        }
        case 'sources': {
          const names = [...new Set((data.sources || []).map((s) => s.file_name).filter(Boolean))];
          if (names.length) this.extra.append(h('p', { class: 'ss-sources', text: `Sources: ${names.join(', ')}` }));
          break;
        }
        case 'intent':
          this.el.dataset.intent = String(data.intent || '');
          break;
        case 'market_intelligence': {
          const summary = marketSummary(data);
          if (summary) this.extra.append(h('p', { class: 'ss-market', text: summary }));
          break;
        }
        default:
          break;
      }
    }

    note(message) {
      this.extra.append(h('p', { class: 'ss-note', text: message }));
    }

    /** Show why the answer failed; `retry` (for a dropped or unreachable stream) adds a
     *  "Try again" button, which resumes after the last event seen when there was one. */
    fail(message, retry) {
      this.failed = true;
      this.errorLine.replaceChildren(h('span', { class: 'ss-error-text', text: message }));
      this.errorLine.hidden = false;
      if (retry) {
        this.errorLine.append(' ', h('button', {
          type: 'button', class: 'ss-button ss-secondary ss-retry', text: 'Try again',
          onclick: () => {
            if (this.chat.dataset.state === 'streaming') return;
            this.failed = false;
            this.errorLine.hidden = true;
            this.errorLine.replaceChildren();
            retry();
          },
        }));
      }
    }

    finish() {
      this.el.dataset.complete = 'true';
    }

    settle() {
      this.answer.setAttribute('aria-busy', 'false');
    }
  }

  // -- <storestream-context-admin> ------------------------------------------------------------

  const TOKEN_KEY = 'storestream.adminToken';
  // Overall progress: where each step of an upload starts and how much of the bar it spans.
  // A step's event without `percent` reports the step done (validation, chunking, token
  // counting) or, for storing, under way; `complete` takes the bar to 100.
  const UPLOAD_STEPS = {
    validation: [0, 5, 'Validated'],
    extraction: [5, 35, 'Extracting text'],
    chunking: [40, 4, 'Chunked'],
    token_counting: [44, 4, 'Tokens counted'],
    embedding: [48, 44, 'Embedding'],
    storing: [92, 6, 'Storing'],
  };

  /**
   * The context-file uploader (the /admin/context page). The admin token is asked once and
   * kept in sessionStorage: this tab only, gone when it closes.
   */
  class StorestreamContextAdmin extends HTMLElement {
    connectedCallback() {
      if (this.built) return;
      this.built = true;
      this.classList.add('ss-widget', 'ss-admin');
      this.dataset.state = 'idle';
      this.tokenInput = h('input', { type: 'password', class: 'ss-input', autocomplete: 'off', 'aria-label': 'Admin token', required: true });
      this.tokenForm = h('form', { class: 'ss-token-form', onsubmit: (e) => { e.preventDefault(); this.saveToken(); } },
        h('label', null, 'Admin token ', this.tokenInput), h('button', { type: 'submit', class: 'ss-button', text: 'Use token' }));
      this.signedIn = h('p', { class: 'ss-signed-in', hidden: true }, 'Admin token kept for this tab. ',
        h('button', { type: 'button', class: 'ss-button ss-secondary ss-forget', text: 'Forget token', onclick: () => this.forget() }));
      this.fileInput = h('input', { type: 'file', class: 'ss-file', accept: '.txt,.md,.html,.htm,.csv,.json,.pdf,.docx',
        onchange: () => { if (this.fileInput.files[0]) this.upload(this.fileInput.files[0]); } });
      this.drop = h('div', { class: 'ss-drop' },
        h('p', { text: 'Drop a file here (txt, md, html, csv, json, pdf, docx), or ' }),
        h('label', { class: 'ss-button' }, 'choose a file', this.fileInput));
      for (const type of ['dragenter', 'dragover']) {
        this.drop.addEventListener(type, (e) => { e.preventDefault(); this.drop.classList.add('ss-drag'); });
      }
      this.drop.addEventListener('dragleave', () => this.drop.classList.remove('ss-drag'));
      this.drop.addEventListener('drop', (e) => {
        e.preventDefault();
        this.drop.classList.remove('ss-drag');
        const file = e.dataTransfer && e.dataTransfer.files[0];
        if (file) this.upload(file);
      });
      this.progress = h('progress', { class: 'ss-progress', max: 100, value: 0, 'aria-label': 'Upload progress' });
      this.stepLine = h('p', { class: 'ss-step-line', 'aria-live': 'polite' });
      this.result = h('p', { class: 'ss-result', 'aria-live': 'polite' });
      this.status = h('p', { class: 'ss-status', role: 'alert' });
      this.files = h('tbody');
      this.table = h('table', { class: 'ss-files' },
        h('caption', { text: 'Uploaded files' }),
        h('thead', null, h('tr', null, ['Name', 'Title', 'Type', 'Chunks', 'Tokens', 'Uploaded', ''].map((t) => h('th', { scope: 'col', text: t })))),
        this.files);
      this.uploader = h('section', { class: 'ss-uploader', hidden: true }, this.drop, this.progress, this.stepLine, this.result, this.table);
      this.replaceChildren(this.tokenForm, this.signedIn, this.status, this.uploader);
      if (this.token) this.enter(); else this.tokenInput.focus();
    }

    get token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

    headers() { return { Authorization: `Bearer ${this.token}` }; }

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
      this.signedIn.hidden = true;
      this.uploader.hidden = true;
      this.files.replaceChildren();
      this.tokenInput.focus();
    }

    async enter() {
      this.tokenForm.hidden = true;
      this.signedIn.hidden = false;
      this.uploader.hidden = false;
      this.fail('');
      await this.refresh();
    }

    fail(message) {
      this.status.textContent = message;
      this.status.classList.toggle('ss-error', Boolean(message));
      if (message) this.dataset.state = 'error';
    }

    /** A 401/403 shows the server's refusal and asks for the token again. */
    async refused(response) {
      const refusal = await describeRefusal(response);
      if (response.status === 401 || response.status === 403) {
        this.forget();
      }
      this.fail(refusal.message);
      return refusal;
    }

    async refresh() {
      let response;
      try {
        response = await fetch(apiUrl(this, '/api/context/files').href, { headers: this.headers() });
      } catch (_) {
        this.fail(UNREACHABLE);
        return;
      }
      if (!response.ok) { await this.refused(response); return; }
      const body = await response.json();
      this.files.replaceChildren(...(body.files || []).map((file) => this.row(file)));
      this.dataset.files = String((body.files || []).length);
    }

    row(file) {
      const created = file.created_at ? new Date(file.created_at) : null;
      const remove = h('button', { type: 'button', class: 'ss-button ss-secondary ss-delete', text: 'Delete' });
      // Two presses to delete (no modal dialog): the first arms the button for a few seconds.
      let armed = null;
      remove.addEventListener('click', async () => {
        if (!armed) {
          remove.textContent = 'Confirm delete';
          armed = setTimeout(() => { armed = null; remove.textContent = 'Delete'; }, 4000);
          return;
        }
        clearTimeout(armed);
        remove.disabled = true;
        let response;
        try {
          response = await fetch(apiUrl(this, `/api/context/files/${encodeURIComponent(file.id)}`).href,
            { method: 'DELETE', headers: this.headers() });
        } catch (_) {
          this.fail(UNREACHABLE); remove.disabled = false; return;
        }
        if (!response.ok && response.status !== 404) { await this.refused(response); remove.disabled = false; return; }
        await this.refresh();
      });
      return h('tr', { 'data-file-id': file.id || '' },
        h('td', { class: 'ss-file-name', text: file.name || '' }),
        h('td', { text: file.title || '' }),
        h('td', { text: file.type || '' }),
        h('td', { class: 'ss-num', text: String(file.chunks ?? '') }),
        h('td', { class: 'ss-num', text: String(file.tokens ?? '') }),
        h('td', { text: created && !Number.isNaN(created.getTime()) ? created.toLocaleString() : '' }),
        h('td', null, remove));
    }

    setProgress(percent, label) {
      const value = Math.max(0, Math.min(100, percent));
      this.progress.value = value;
      this.dataset.percent = String(Math.round(value));
      this.stepLine.textContent = `${label} — ${Math.round(value)}%`;
    }

    async upload(file) {
      if (this.dataset.state === 'uploading') return;
      this.dataset.state = 'uploading';
      this.fail('');
      this.result.textContent = '';
      this.setProgress(0, `Sending ${file.name}`);
      const form = new FormData();
      form.append('file', file, file.name);
      let response;
      try {
        response = await fetch(apiUrl(this, '/api/context/upload-file/stream').href,
          { method: 'POST', headers: this.headers(), body: form });
      } catch (_) {
        this.fail(UNREACHABLE);
        return;
      } finally {
        this.fileInput.value = '';
      }
      if (!response.ok) { await this.refused(response); return; }
      let outcome = null;
      let failed = null;
      try {
        for await (const event of readEventStream(response.body)) {
          const data = parseData(event.data);
          if (event.event === 'progress' && UPLOAD_STEPS[data.step]) {
            const [start, span, label] = UPLOAD_STEPS[data.step];
            const within = typeof data.percent === 'number' && !data.skipped ? data.percent / 100 : 1;
            this.setProgress(start + span * within, data.message || label);
          } else if (event.event === 'results' && data.type === 'chunks') {
            outcome = data;
          } else if (event.event === 'error' && data.fatal !== false) {
            failed = data.message || 'The upload failed.';
          } else if (event.event === 'complete' && outcome) {
            this.setProgress(100, 'Done');
          }
        }
      } catch (_) {
        failed = failed || 'The connection was lost during the upload; check the list before trying again.';
      }
      if (failed || !outcome) {
        this.fail(failed || 'The upload ended without a result.');
      } else {
        this.dataset.state = 'done';
        this.result.textContent = outcome.duplicate
          ? `Already uploaded as ${outcome.file_name}: ${outcome.count} chunks, ${outcome.tokens} tokens.`
          : `${outcome.file_name}: ${outcome.count} chunks, ${outcome.tokens} tokens.`;
        this.result.dataset.chunks = String(outcome.count);
        this.result.dataset.tokens = String(outcome.tokens);
      }
      await this.refresh();
    }
  }

  for (const [name, element] of [
    ['storestream-search', StorestreamSearch],
    ['storestream-chat', StorestreamChat],
    ['storestream-context-admin', StorestreamContextAdmin],
  ]) {
    if (!customElements.get(name)) customElements.define(name, element);
  }
})();
