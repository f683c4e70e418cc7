/*
 * storestream web components: <storestream-search>, <storestream-chat> and
 * <storestream-context-admin>. Plain modern JavaScript, no build step, no dependencies.
 * For the admin pages' other script (insights-admin.js) it also leaves `window.storestream`:
 * `h` (build an element) and `adminToken` (the admin token every admin element shares).
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

  // A run of left-to-right text inside right-to-left text: Latin words, numbers and prices
  // ("House of Meher", "₹60,499", "XL"), spaces between them included. Punctuation inside a run
  // stays in it (60,499; size-guide.pdf), a sentence's full stop after it does not.
  const LTR_WORD = '[₹$€£]?[A-Za-z0-9\\u00C0-\\u024F](?:[A-Za-z0-9\\u00C0-\\u024F.,\'&/+%-]*[A-Za-z0-9\\u00C0-\\u024F%])?';
  const LTR_RUN = new RegExp(`${LTR_WORD}(?:\\s+${LTR_WORD})*`, 'g');

  /**
   * `text` as nodes; with `isolate` (right-to-left text) every left-to-right run is its own
   * <bdi>, so a price keeps its currency sign before its digits and a Latin brand name its
   * word order, whatever the Persian or Hebrew around it.
   */
  function bidiText(text, isolate) {
    if (!isolate) return [document.createTextNode(text)];
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(LTR_RUN)) {
      if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
      nodes.push(h('bdi', { dir: 'ltr', text: match[0] }));
      last = match.index + match[0].length;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  /** Items as isolated <bdi>s (each in its own direction) joined by commas. */
  function isolatedList(items, className) {
    return items.map((item, i) => [i ? ', ' : '', h('bdi', { class: className, 'data-value': item, text: item })]);
  }

  // The widgets' own words on cards, chips and sources, in the language of what they are shown
  // with (a Persian answer, a Hebrew query), so a right-to-left card reads as one language.
  const WORDS = {
    en: { colours: 'Colours', sizes: 'Sizes', outOfStock: 'Out of stock', sources: 'Sources', colour: 'Colour',
      size: 'Size', price: 'Price', clear: 'Clear filters', rated: (r) => `Rated ${r} out of 5`,
      found: (n) => `${n} products`, none: 'No products match. Try fewer words or other filters.' },
    fa: { colours: 'رنگ‌ها', sizes: 'سایزها', outOfStock: 'ناموجود', sources: 'منابع', colour: 'رنگ',
      size: 'سایز', price: 'قیمت', clear: 'حذف فیلترها', rated: (r) => `امتیاز ${r} از ۵`,
      found: (n) => `${n.toLocaleString('fa')} کالا`, none: 'کالایی پیدا نشد. کلمه‌های کمتر یا فیلترهای دیگری را امتحان کنید.' },
    he: { colours: 'צבעים', sizes: 'מידות', outOfStock: 'אזל מהמלאי', sources: 'מקורות', colour: 'צבע',
      size: 'מידה', price: 'מחיר', clear: 'ניקוי מסננים', rated: (r) => `דירוג ${r} מתוך 5`,
      found: (n) => `${n} מוצרים`, none: 'לא נמצאו מוצרים. נסו פחות מילים או מסננים אחרים.' },
    hi: { colours: 'रंग', sizes: 'साइज़', outOfStock: 'स्टॉक में नहीं', sources: 'स्रोत', colour: 'रंग',
      size: 'साइज़', price: 'कीमत', clear: 'फ़िल्टर हटाएँ', rated: (r) => `रेटिंग 5 में से ${r}`,
      found: (n) => `${n} उत्पाद`, none: 'कोई उत्पाद नहीं मिला। कम शब्द या दूसरे फ़िल्टर आज़माएँ।' },
    ru: { colours: 'Цвета', sizes: 'Размеры', outOfStock: 'Нет в наличии', sources: 'Источники', colour: 'Цвет',
      size: 'Размер', price: 'Цена', clear: 'Сбросить фильтры', rated: (r) => `Оценка ${r} из 5`,
      found: (n) => `${n} ${{ one: 'товар', few: 'товара' }[new Intl.PluralRules('ru').select(n)] || 'товаров'}`,
      none: 'Ничего не найдено. Попробуйте меньше слов или другие фильтры.' },
  };
  // What the widgets say when a search or an answer goes wrong, in the shopper's language (as
  // WORDS). English keeps the detailed messages (the server's among them); in the others the
  // kind of trouble is named: `failed`, `interrupted` (the connection was lost), `stopped`, the
  // 429 hold with its wait, and the "Try again" button.
  const at = (seconds) => new Date(Date.now() + seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const TROUBLE = {
    fa: { failed: 'مشکلی پیش آمد. لطفاً دوباره امتحان کنید.', interrupted: 'ارتباط پیش از پایان قطع شد.',
      stopped: 'متوقف شد.', retry: 'دوباره امتحان کنید',
      hold: (s) => `درخواست‌ها فعلاً زیاد است. لطفاً ${s.toLocaleString('fa')} ثانیه دیگر (ساعت ${at(s)}) دوباره امتحان کنید.` },
    he: { failed: 'משהו השתבש. נסו שוב.', interrupted: 'החיבור נותק לפני הסוף.', stopped: 'הופסק.', retry: 'נסו שוב',
      hold: (s) => `יותר מדי בקשות כרגע. נסו שוב בעוד ${s} שניות (בשעה ${at(s)}).` },
    hi: { failed: 'कुछ गड़बड़ हो गई। कृपया फिर से कोशिश करें।', interrupted: 'पूरा होने से पहले कनेक्शन टूट गया।',
      stopped: 'रोक दिया गया।', retry: 'फिर से कोशिश करें',
      hold: (s) => `अभी बहुत सारे अनुरोध हैं। कृपया ${s} सेकंड बाद (${at(s)} बजे) फिर से कोशिश करें।` },
    ru: { failed: 'Что-то пошло не так. Попробуйте ещё раз.', interrupted: 'Соединение прервалось до конца ответа.',
      stopped: 'Остановлено.', retry: 'Попробовать ещё раз',
      hold: (s) => `Сейчас слишком много запросов. Попробуйте снова через ${s} с (в ${at(s)}).` },
  };

  /** The language code of a WORDS entry ("fa"...). */
  const languageOf = (words) => Object.keys(WORDS).find((k) => WORDS[k] === words);

  /** The words for trouble of `kind` (failed | interrupted | stopped) for a shopper writing in
   *  `words`' language: `english` (the detailed message) in English, else theirs; a 429
   *  `refusal` says how long to wait. */
  function troubleText(words, kind, english, refusal) {
    const theirs = TROUBLE[languageOf(words)];
    if (!theirs) return english;
    if (refusal && refusal.status === 429) return theirs.hold(Math.max(1, refusal.retryAfter || 1));
    return theirs[kind] || theirs.failed;
  }

  /** The wait while the budget is held (`holdMessage`), in `words`' language. */
  function holdIn(words, wait) {
    return troubleText(words, 'failed', holdMessage(wait), { status: 429, retryAfter: wait });
  }

  function retryText(words) {
    return (TROUBLE[languageOf(words)] || { retry: 'Try again' }).retry;
  }

  // The search's "more" button, in the language of the query (as WORDS).
  const MORE_WORDS = { en: 'Show more', fa: 'نمایش بیشتر', he: 'הצגת עוד', hi: 'और दिखाएँ', ru: 'Показать ещё' };
  // Letters that name a language among the shops' (Arabic script is read as Persian).
  const SCRIPT_LANGUAGES = [['fa', /[\u0600-\u06FF\uFB50-\uFDFF\uFE70-\uFEFF]/g], ['he', /[\u0590-\u05FF\uFB1D-\uFB4F]/g],
    ['hi', /[\u0900-\u097F]/g], ['ru', /[\u0400-\u04FF]/g], ['en', /[A-Za-z]/g]];

  /** The widgets' words for `language` (a code such as "fa-IR"), else for the script most of
   *  `text`'s letters are in; English otherwise. */
  function wordsFor(text, language) {
    const code = String(language || '').toLowerCase().split(/[-_]/)[0];
    if (WORDS[code]) return WORDS[code];
    let best = 'en';
    let most = 0;
    for (const [lang, letters] of SCRIPT_LANGUAGES) {
      const count = (String(text || '').match(letters) || []).length;
      if (count > most) { best = lang; most = count; }
    }
    return WORDS[best];
  }

  function secondsText(seconds) {
    if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
    return `${Math.ceil(seconds / 60)} minutes`;
  }

  /** What a shopper reads while the request budget is spent: how long, and until when. */
  function holdMessage(seconds) {
    const wait = Math.max(1, seconds);
    return `Too many requests right now. Please try again in ${secondsText(wait)} (at ${at(wait)}).`;
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
      return { status: 429, code: body.code || 'RATE_LIMITED', retryAfter: wait, message: holdMessage(wait) };
    }
    const message = typeof body.error === 'string' && body.error ? body.error : `The request failed (HTTP ${response.status}).`;
    const suffix = retryAfter && response.status >= 500 ? ` Try again in ${secondsText(retryAfter)}.` : '';
    return { status: response.status, code: body.code || `HTTP_${response.status}`, retryAfter, message: message + suffix };
  }

  // -- the request budget ---------------------------------------------------------------------

  // A hold learnt from `X-RateLimit-Remaining: 0` lasts until `X-RateLimit-Reset`, read with
  // this browser's clock (the server's `Date` is not readable cross-origin); never longer than
  // this, so a clock far behind the server's cannot lock the shopper out. A clock far ahead
  // only shortens the hold: the server's 429 and its Retry-After then take over.
  const MAX_LEARNT_HOLD_S = 60;

  /**
   * The streaming request budget of one platform (every streaming route and its JSON twin
   * share one budget per client), shared by every widget on the page that talks to it. After
   * a 429, or a response saying no request is left, nothing is sent until the budget frees;
   * then the widgets are told (`onFree`).
   */
  class Budget {
    constructor() {
      this.until = 0;
      this.timer = null;
      this.listeners = new Set();
    }

    /** Whole seconds until a request may be sent; 0: now. */
    wait() {
      return Math.max(0, Math.ceil((this.until - Date.now()) / 1000));
    }

    hold(seconds) {
      const until = Date.now() + Math.max(1, seconds) * 1000;
      if (until <= this.until) return;
      this.until = until;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.until = Math.min(this.until, Date.now()); // timers may fire a millisecond early
        for (const listener of [...this.listeners]) listener();
      }, until - Date.now());
      for (const listener of [...this.listeners]) listener();
    }

    /** What a limited route's response says: `X-RateLimit-Remaining: 0` holds until the reset. */
    learn(response) {
      const remaining = response.headers.get('X-RateLimit-Remaining');
      const reset = Number.parseInt(response.headers.get('X-RateLimit-Reset') || '', 10);
      if (remaining === null || !/^\d+$/.test(remaining.trim()) || Number(remaining) > 0 || !Number.isFinite(reset)) return;
      this.hold(Math.min(MAX_LEARNT_HOLD_S, Math.max(1, Math.ceil(reset - Date.now() / 1000))));
    }

    /** `listener` runs when a hold starts and when it ends; returns the unsubscribe function. */
    subscribe(listener) {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }
  }

  const budgets = new Map(); // platform origin -> Budget
  function budgetFor(element) {
    const origin = apiUrl(element, '/').origin;
    if (!budgets.has(origin)) budgets.set(origin, new Budget());
    return budgets.get(origin);
  }

  function isEventStream(response) {
    return (response.headers.get('Content-Type') || '').split(';')[0].trim().toLowerCase() === 'text/event-stream';
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
      // Whoever stops reading (a `close` seen, an abort, a newer query) closes the connection
      // too: a body left unread would keep it open until the server ended it.
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  function parseData(raw) {
    try { return JSON.parse(raw); } catch (_) { return {}; }
  }

  // -- safe Markdown --------------------------------------------------------------------------

  /** Inline Markdown (**bold**, *italic*, `code`) as DOM nodes; everything else stays text.
   *  `isolate`: right-to-left text, whose left-to-right runs become <bdi>s (bidiText). */
  function inline(text, isolate) {
    const nodes = [];
    const pattern = /\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|`([^`]+)`/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > last) nodes.push(...bidiText(text.slice(last, match.index), isolate));
      if (match[1] !== undefined || match[2] !== undefined) nodes.push(h('strong', null, bidiText(match[1] ?? match[2], isolate)));
      else if (match[3] !== undefined) nodes.push(h('em', null, bidiText(match[3], isolate)));
      else nodes.push(h('code', { dir: isolate ? 'auto' : null, text: match[4] }));
      last = match.index + match[0].length;
    }
    if (last < text.length) nodes.push(...bidiText(text.slice(last), isolate));
    return nodes;
  }

  /** Paragraphs, line breaks, bullet and numbered lists. Built from nodes, never from HTML. */
  function renderMarkdown(target, text, isolate) {
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
        list.append(h('li', null, inline((bullet || numbered)[1], isolate)));
        paragraph = null;
      } else if (line.trim() === '') {
        list = null; paragraph = null;
      } else {
        list = null;
        if (paragraph) paragraph.append(h('br'));
        else { paragraph = h('p'); blocks.push(paragraph); }
        paragraph.append(...inline(line, isolate));
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

  function productCard(element, card, words = WORDS.en) {
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
        // The card takes its direction from where it is shown (an answer, the results of a
        // query); the title its own (a Persian title on an English page is right to left);
        // brand, price and values are isolated, so each reads in its own direction.
        h('h3', { class: 'ss-card-title', dir: 'auto', text: card.title || card.sku || '' }),
        card.brand ? h('p', { class: 'ss-card-brand' }, h('bdi', { text: card.brand })) : null,
        h('p', { class: 'ss-card-price' }, h('bdi', { dir: 'ltr', text: formatPrice(card.price, card.currency) })),
        rating !== null ? h('p', { class: 'ss-card-rating', 'aria-label': words.rated(rating.toFixed(1)) },
          h('bdi', { dir: 'ltr' }, h('span', { 'aria-hidden': 'true', text: '★ ' }), rating.toFixed(1))) : null,
        colours.length ? h('p', { class: 'ss-card-colours' }, h('span', { class: 'ss-label', text: `${words.colours}: ` }),
          ...isolatedList(colours, 'ss-colour')) : null,
        sizes.length ? h('p', { class: 'ss-card-sizes' }, h('span', { class: 'ss-label', text: `${words.sizes}: ` }),
          ...isolatedList(sizes, 'ss-size')) : null,
        card.in_stock === false ? h('p', { class: 'ss-card-stock', text: words.outOfStock }) : null,
      ),
    );
  }

  // -- <storestream-search> -------------------------------------------------------------------

  const SEARCH_STEPS = { text_search: 'Matching words', vector_search: 'Matching meaning', filters: 'Applying filters' };
  // Search on a pause, not per keystroke. People type at about 120-300 ms per key (slower
  // typists, phones); a debounce under 300 ms fires between the keys of one word and spends a
  // request per key. 500 ms clears the slowest typing with 200 ms to spare for a busy page's
  // timer jitter, and results still follow the last key within about half a second.
  const DEBOUNCE_MS = 500;
  // Suggestions follow the keys more closely: they answer from memory (GET
  // /api/products/suggest, about a millisecond) and draw on a budget of their own, so a short
  // pause between two keys is enough; the full search still waits for DEBOUNCE_MS or a choice.
  const SUGGEST_MS = 120;
  let suggestIds = 0;
  // Final results kept per request (query + filters + limit): retyping a query or turning a chip
  // back off shows them at once without a request. Five minutes, so prices and stock shown
  // from memory are never older than that; the 50 most recently used.
  const CACHE_TTL_MS = 5 * 60 * 1000;
  const CACHE_SIZE = 50;

  /**
   * Search as you type: GET /api/products/search/stream read with fetch() (the status, the
   * Retry-After and X-RateLimit-* headers of a refusal are readable there, unlike EventSource,
   * so a 429 is understood without asking again).
   *
   * The request budget is shared with the chat, so the widget spends it carefully: it searches
   * on a pause (DEBOUNCE_MS), never has two searches in flight (a newer query aborts the
   * running one and starts when it has ended), shows cached results for a request it has
   * already answered, sends nothing while the budget is held (after a 429 or a response with
   * no request left), and closes every stream at its `close`. Whatever arrives, only the
   * results of the newest request are ever shown.
   *
   * Attributes: query (start with this search), api (platform base URL), limit, placeholder.
   * State for styling and tests: data-state = idle | loading | done | error, data-stage =
   * text | final, data-query (the query whose cards are shown), data-source = network | cache,
   * data-requests (streams this element has opened), data-retry-after (seconds, when held).
   */
  class StorestreamSearch extends HTMLElement {
    static get observedAttributes() { return ['query']; }

    constructor() {
      super();
      this.run = null; // the search in flight: {key, q, controller}
      this.timer = null; // the pending debounced search
      this.wanted = null; // the request key of what the shopper asked for last
      this.shown = null; // the request key whose results are on screen
      this.held = null; // the request key refused while the budget was held
      this.cache = new Map(); // request key -> {payload, at}
      this.filters = {}; // {color?, size?, price?: {label, min, max}}
      this.requests = 0;
      this.composing = false; // an input method is building a word in the box
      this.built = false;
    }

    connectedCallback() {
      if (!this.built) this.build();
      this.budget = budgetFor(this);
      this.unsubscribe = this.budget.subscribe(() => this.budgetChanged());
      const query = (this.getAttribute('query') || '').trim();
      if (query && !this.run && this.shown === null) { this.input.value = query; this.search(); }
    }

    disconnectedCallback() {
      clearTimeout(this.timer);
      this.timer = null;
      if (this.run) this.run.controller.abort();
      if (this.unsubscribe) this.unsubscribe();
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
        type: 'search', class: 'ss-input', 'aria-label': 'Search products', autocomplete: 'off', dir: 'auto',
        placeholder: this.getAttribute('placeholder') || 'Search: red silk lehenga under 20000',
        // An input method (Devanagari phonetic, Persian, Hebrew, Japanese...) shows a word being
        // built before the shopper commits it: nothing is searched until compositionend, which
        // then searches through the usual debounce. Chromium sends its last composing `input`
        // before compositionend, Safari a plain one after it: either way, one timer.
        oninput: (e) => { if (!e.isComposing && !this.composing) { this.schedule(); this.scheduleSuggest(); } },
        oncompositionstart: () => { this.composing = true; clearTimeout(this.timer); this.timer = null; },
        oncompositionend: () => { this.composing = false; this.schedule(); this.scheduleSuggest(); },
        onkeydown: (e) => this.suggestKey(e),
        onblur: () => setTimeout(() => this.hideSuggestions(), 150), // after a click on an option lands
        role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
      });
      // Completions while typing (a listbox under the box): a choice searches at once.
      this.suggestList = h('ul', { class: 'ss-suggest', role: 'listbox', id: `ss-suggest-${++suggestIds}`,
        'aria-label': 'Suggestions', hidden: true });
      this.input.setAttribute('aria-controls', this.suggestList.id);
      const form = h('form', { class: 'ss-search-form', role: 'search', onsubmit: (e) => { e.preventDefault(); this.hideSuggestions(); this.search(); } },
        h('div', { class: 'ss-suggest-anchor' }, this.input, this.suggestList),
        h('button', { type: 'submit', class: 'ss-button', text: 'Search' }));
      this.steps = h('ol', { class: 'ss-steps', 'aria-label': 'Search progress' });
      this.status = h('p', { class: 'ss-status', role: 'status', 'aria-live': 'polite' });
      this.chips = h('div', { class: 'ss-chips', role: 'group', 'aria-label': 'Filters' });
      this.cards = h('ul', { class: 'ss-cards', 'aria-label': 'Products' });
      // The next page of the results shown: a button, not loading on scroll, because every page
      // is a request from the budget the chat shares; a shopper who asks for more spends it.
      this.more = h('button', { type: 'button', class: 'ss-button ss-secondary ss-more', hidden: true,
        onclick: () => this.loadMore() });
      this.replaceChildren(form, this.steps, this.status, this.chips, this.cards, this.more);
    }

    /** A keystroke: ask for suggestions after a short pause (the newest answer only). */
    scheduleSuggest() {
      clearTimeout(this.suggestTimer);
      this.suggestTimer = setTimeout(() => this.suggest(), SUGGEST_MS);
    }

    async suggest() {
      const q = this.input.value.trim();
      if (this.suggesting) this.suggesting.abort();
      if (!q || this.composing) { this.hideSuggestions(); return; }
      const url = apiUrl(this, '/api/products/suggest');
      url.searchParams.set('q', q);
      const controller = new AbortController();
      this.suggesting = controller;
      try {
        const response = await fetch(url.href, { signal: controller.signal });
        if (!response.ok) { this.hideSuggestions(); return; } // their own budget spent: the search goes on
        const body = await response.json();
        if (this.suggesting !== controller || this.input.value.trim() !== q) return;
        this.showSuggestions(body.completions || []);
      } catch (error) {
        if (error.name !== 'AbortError') this.hideSuggestions();
      }
    }

    showSuggestions(completions) {
      this.active = -1;
      this.suggestList.replaceChildren(...completions.map((c, i) => h('li', {
        role: 'option', id: `${this.suggestList.id}-${i}`, class: 'ss-suggestion', 'data-source': c.source,
        'aria-selected': 'false', dir: 'auto', text: c.text,
        onmousedown: (e) => { e.preventDefault(); this.choose(c.text); },
      })));
      const open = completions.length > 0;
      this.suggestList.hidden = !open;
      this.input.setAttribute('aria-expanded', String(open));
      this.input.removeAttribute('aria-activedescendant');
    }

    hideSuggestions() {
      clearTimeout(this.suggestTimer);
      if (this.suggesting) this.suggesting.abort();
      this.suggesting = null;
      this.suggestList.hidden = true;
      this.input.setAttribute('aria-expanded', 'false');
      this.input.removeAttribute('aria-activedescendant');
    }

    /** Up and down move through the suggestions, Enter takes the one chosen, Escape closes them. */
    suggestKey(e) {
      const options = this.suggestList.hidden ? [] : [...this.suggestList.children];
      if (e.key === 'Escape') { this.hideSuggestions(); return; }
      if (e.key === 'ArrowDown' && !options.length && this.input.value.trim()) { // open them again
        e.preventDefault();
        this.suggest();
        return;
      }
      if (!options.length || !['ArrowDown', 'ArrowUp', 'Enter'].includes(e.key)) return;
      if (e.key === 'Enter') {
        if (this.active >= 0) { e.preventDefault(); this.choose(options[this.active].textContent); }
        return;
      }
      e.preventDefault();
      const last = options.length - 1; // -1 is the box itself: the keys wrap through it
      if (e.key === 'ArrowDown') this.active = this.active >= last ? -1 : this.active + 1;
      else this.active = this.active <= -1 ? last : this.active - 1;
      options.forEach((o, i) => o.setAttribute('aria-selected', String(i === this.active)));
      if (this.active >= 0) this.input.setAttribute('aria-activedescendant', options[this.active].id);
      else this.input.removeAttribute('aria-activedescendant');
    }

    /** A suggestion taken: it becomes the query and is searched now, not after a pause. */
    choose(text) {
      this.input.value = text;
      this.hideSuggestions();
      this.search();
    }

    /** A keystroke: search when the typing pauses. */
    schedule() {
      clearTimeout(this.timer);
      this.dataset.state = this.input.value.trim() ? 'loading' : 'idle';
      this.timer = setTimeout(() => { this.timer = null; this.search(); }, DEBOUNCE_MS);
    }

    /** What to ask for now: {key, q, url}, the key being the whole request; null when empty. */
    request() {
      const q = this.input.value.trim().replace(/\s+/g, ' ');
      if (!q) return null;
      const url = apiUrl(this, '/api/products/search/stream');
      url.searchParams.set('q', q);
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
      return { key: url.href, q, url: url.href };
    }

    /** Show the results for what the shopper asked for last: from the cache, or by a search.
     * The suggestions close: the shopper paused or chose, and the results (and their chips)
     * are what comes next; Down in the box opens them again. */
    search() {
      clearTimeout(this.timer);
      this.timer = null;
      this.hideSuggestions();
      if (this.composing) return; // half a word: compositionend searches the whole one
      const request = this.request();
      this.wanted = request ? request.key : null;
      this.asked = request ? request.q : ''; // the words of the query: its failures speak its language
      this.held = null;
      this.endPaging();
      if (!request) {
        if (this.run) this.run.controller.abort();
        this.shown = null;
        this.steps.replaceChildren();
        this.say('');
        this.cards.replaceChildren(); this.chips.replaceChildren();
        delete this.dataset.query; delete this.dataset.stage; delete this.dataset.source;
        this.dataset.state = 'idle';
        return;
      }
      const cached = this.cached(request.key);
      if (cached) {
        if (this.run) this.run.controller.abort(); // it was for an older query
        this.steps.replaceChildren();
        this.show(request, cached, 'final', 'cache');
        this.dataset.state = 'done';
        return;
      }
      const wait = this.budget.wait();
      if (wait) {
        if (this.run) this.run.controller.abort();
        this.held = request.key;
        this.fail(holdMessage(wait), { status: 429, retryAfter: wait });
        return;
      }
      this.dataset.state = 'loading';
      if (this.run) {
        // Never two in flight: end the older one; this one starts when it has (start's finally).
        if (this.run.key !== request.key) this.run.controller.abort();
        return;
      }
      this.start(request);
    }

    /** The budget was held or freed. Freed: the search refused meanwhile runs now (once). */
    budgetChanged() {
      if (this.budget.wait() || this.held === null || this.held !== this.wanted) return;
      this.search();
    }

    cached(key) {
      const entry = this.cache.get(key);
      if (!entry) return null;
      this.cache.delete(key);
      if (Date.now() - entry.at > CACHE_TTL_MS) return null;
      this.cache.set(key, entry); // most recently used last
      return entry.payload;
    }

    remember(key, payload) {
      this.cache.delete(key);
      this.cache.set(key, { payload, at: Date.now() });
      while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value);
    }

    start(request) {
      const run = { key: request.key, q: request.q, controller: new AbortController() };
      this.run = run;
      this.requests += 1;
      this.dataset.requests = String(this.requests);
      this.steps.replaceChildren();
      this.say('');
      this.stream(run, request).finally(() => {
        run.controller.abort(); // whatever happened, this side of the connection is closed
        if (this.run === run) this.run = null;
        // The shopper moved on while this one ran (and is not still typing): search for that.
        if (!this.timer && this.wanted && this.wanted !== run.key && this.wanted !== this.shown && this.isConnected) {
          this.search();
        }
      });
    }

    async stream(run, request) {
      const { signal } = run.controller;
      const current = () => this.wanted === run.key && !signal.aborted;
      let response;
      try {
        response = await fetch(request.url, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal });
      } catch (_) {
        if (current()) this.fail(UNREACHABLE);
        return;
      }
      this.budget.learn(response);
      if (!response.ok) {
        const refusal = await describeRefusal(response);
        if (refusal.status === 429) {
          this.budget.hold(refusal.retryAfter);
          if (current()) this.held = run.key;
        }
        if (current()) this.fail(refusal.message, refusal);
        return;
      }
      if (!isEventStream(response)) {
        if (current()) this.fail('The search service did not answer with a stream.');
        return;
      }
      let final = null;
      let ended = false;
      try {
        for await (const event of readEventStream(response.body)) {
          if (signal.aborted) return;
          const data = parseData(event.data);
          if (event.event === 'progress') {
            if (current()) this.step(data);
          } else if (event.event === 'results' && data.type === 'product_cards') {
            const stage = data.stage === 'text' ? 'text' : 'final';
            if (stage === 'final') final = data;
            if (current()) this.show(request, data, stage, 'network');
          } else if (event.event === 'error' && data.fatal !== false) {
            ended = true;
            if (current()) this.fail(data.message || 'The search failed.');
          } else if (event.event === 'complete') {
            ended = true;
            if (final) this.remember(run.key, final);
            if (current()) this.dataset.state = 'done';
          } else if (event.event === 'close') {
            ended = true;
            if (current() && this.dataset.state === 'loading') this.dataset.state = 'done';
            return; // the stream is over: stop reading (readEventStream closes the connection)
          }
        }
      } catch (_) {
        if (signal.aborted) return;
      }
      // The body ended before the stream did. No automatic retry (each costs a request): the
      // shopper can press Search.
      if (!ended && current()) this.fail('The connection was lost before the search finished. Press Search to try again.');
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

    /** Cards for `request` (a `results` payload, live or cached); chips from the final facets. */
    show(request, data, stage, source) {
      const products = Array.isArray(data.products) ? data.products : [];
      this.shown = request.key;
      this.dataset.query = request.q;
      this.dataset.stage = stage;
      this.dataset.source = source;
      delete this.dataset.retryAfter;
      this.status.classList.remove('ss-error');
      // Results for a Persian or Hebrew query lay out right to left (cards, chips).
      const dir = scriptDirection(request.q);
      const words = wordsFor(request.q);
      for (const part of [this.status, this.chips, this.cards]) part.setAttribute('dir', dir);
      this.cards.replaceChildren(...products.map((card) => productCard(this, card, words)));
      // For search analytics (insights.js): which search these cards are the results of.
      if (data.query_id) this.dataset.queryId = data.query_id; else delete this.dataset.queryId;
      this.dispatchEvent(new CustomEvent('storestream-results', { bubbles: true, detail: { queryId: data.query_id || null, stage, source } }));
      if (stage === 'final') {
        this.say(products.length ? words.found(data.total ?? products.length) : words.none);
        this.renderChips(data.facets || {}, words);
      }
      this.endPaging();
      if (stage === 'final' && data.next_cursor) this.offerMore(request, data.next_cursor);
    }

    // -- pages: "Show more" appends the next page of the ranking the first page froze --------

    /** The button for the page after the cards shown (`next_cursor` of the last page). */
    offerMore(request, cursor) {
      this.paging = { key: request.key, url: request.url, q: request.q, cursor, loaded: 1 };
      this.more.textContent = MORE_WORDS[languageOf(wordsFor(request.q))] || MORE_WORDS.en;
      this.more.hidden = false;
      this.more.disabled = false;
    }

    /** No more pages of these results (a new search, an error, the last page): the button goes. */
    endPaging() {
      if (this.paging && this.paging.controller) this.paging.controller.abort();
      this.paging = null;
      if (this.more) this.more.hidden = true;
      delete this.dataset.pages;
    }

    /** One more page, appended to the cards (one request; nothing while the budget is held). */
    async loadMore() {
      const paging = this.paging;
      if (!paging || paging.controller || this.run || this.shown !== paging.key) return;
      const wait = this.budget.wait();
      if (wait) { this.say(holdIn(wordsFor(paging.q), wait)); return; }
      const url = new URL(paging.url);
      url.searchParams.set('cursor', paging.cursor);
      paging.controller = new AbortController();
      this.more.disabled = true;
      this.dataset.state = 'loading';
      this.requests += 1;
      this.dataset.requests = String(this.requests);
      let page = null;
      let problem = 'The connection was lost before more products arrived. Press the button to try again.';
      let kind = 'interrupted';
      let refused = null;
      try {
        const response = await fetch(url.href, { headers: { Accept: 'text/event-stream' }, cache: 'no-store',
          signal: paging.controller.signal });
        this.budget.learn(response);
        if (!response.ok) {
          const refusal = await describeRefusal(response);
          if (refusal.status === 429) this.budget.hold(refusal.retryAfter);
          problem = refusal.message;
          kind = 'failed';
          refused = refusal;
        } else {
          for await (const event of readEventStream(response.body)) {
            const data = parseData(event.data);
            if (event.event === 'results' && data.type === 'product_cards') page = data;
            else if (event.event === 'error' && data.fatal !== false) {
              problem = data.message || 'The search failed.';
              kind = 'failed';
            }
            else if (event.event === 'close') break;
          }
        }
      } catch (_) {
        // aborted by a newer search (nothing to show), or the network failed (problem says so)
      }
      if (this.paging !== paging) return; // a newer search took over
      paging.controller = null;
      this.dataset.state = 'done';
      if (!page) {
        this.say(troubleText(wordsFor(paging.q), kind, problem, refused));
        this.status.classList.add('ss-error');
        if (paging.cursor) this.more.disabled = false;
        else this.more.hidden = true;
        return;
      }
      const words = wordsFor(paging.q);
      this.cards.append(...(Array.isArray(page.products) ? page.products : []).map((card) => productCard(this, card, words)));
      paging.loaded += 1;
      paging.cursor = page.next_cursor || null;
      this.dataset.pages = String(paging.loaded);
      this.say(words.found(page.total ?? this.cards.children.length));
      this.more.disabled = false;
      this.more.hidden = !paging.cursor;
    }

    say(text) {
      this.status.textContent = text;
      this.status.classList.remove('ss-error');
    }

    fail(message, refusal) {
      this.dataset.state = 'error';
      this.endPaging();
      // Cards of an earlier query under this one's error would read as its results.
      this.shown = null;
      delete this.dataset.query; delete this.dataset.stage; delete this.dataset.source;
      this.cards.replaceChildren();
      this.chips.replaceChildren();
      // In the query's language (English keeps the detailed message), and its direction.
      const words = wordsFor(this.asked);
      const text = troubleText(words, 'failed', message, refusal);
      if (text === message) this.status.removeAttribute('dir');
      else this.status.setAttribute('dir', scriptDirection(text));
      this.status.textContent = text;
      this.status.classList.add('ss-error');
      if (refusal && refusal.status === 429) this.dataset.retryAfter = String(refusal.retryAfter);
      else delete this.dataset.retryAfter;
    }

    renderChips(facets, words) {
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
      group('color', words.colour, simple('color', 'color'));
      group('size', words.size, simple('size', 'size'));
      const bands = (facets.price || []).map((b) => ({ label: String(b.value), min: b.min ?? 0, max: b.max ?? null }));
      const activePrice = this.filters.price;
      if (activePrice && !bands.some((b) => b.label === activePrice.label)) bands.unshift(activePrice);
      group('price', words.price, bands.map((b) => chip('price', b.label, b, activePrice && b.label === activePrice.label)));
      if (Object.keys(this.filters).length) {
        groups.push(h('button', { type: 'button', class: 'ss-chip ss-chip-clear', text: words.clear,
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
  // After Stop: how long the stream may take to end by itself (the server's
  // error{STREAM_STOPPED} and `close`) before this side aborts it anyway.
  const STOP_GRACE_MS = 2000;
  // Fatal error codes after which asking the same question again may well succeed: the turn
  // offers "Try again" (so does any error the server marks `retryable`).
  const ASK_AGAIN_CODES = new Set(['STREAM_STOPPED', 'STREAM_INTERRUPTED', 'STREAM_EXPIRED']);

  /**
   * A chat embed that streams answers over POST (fetch + a text/event-stream parser, since
   * EventSource cannot POST). Attributes: endpoint (/api/troika/intelligent-chat/stream or
   * /api/chat/query/stream), api (platform base URL), tts (speak answers from the start),
   * placeholder.
   *
   * It never asks a question on its own: a dropped stream is resumed with Last-Event-ID (the
   * server replays the same answer, the question is not run again); a stopped, interrupted or
   * lost answer offers "Try again", which the shopper presses to ask it again as a new
   * request. "Stop" (shown while an answer streams) asks the server to stop the stream
   * (POST /api/streams/{stream_id}/stop with the last id seen), then lets it end with its
   * `close`. While the platform's request budget is held (a 429, or no request left), Send is
   * disabled and the wait is shown.
   *
   * For tests and hosts: `audioState` ({received, played, queued, muted}),
   * data-audio-received / data-audio-played (seq lists), data-state = idle | streaming | done |
   * error, data-retry-after (seconds, while held); each answer's data-outcome = complete |
   * stopped | interrupted | failed, and after a stop data-stopped-by = server (its
   * STREAM_STOPPED arrived) | client (this side aborted) and data-stop-status (the stop
   * request's HTTP status, or none).
   */
  class StorestreamChat extends HTMLElement {
    constructor() {
      super();
      this.built = false;
      this.sessionId = null;
      this.live = null; // the answer streaming now: {turn, controller, stopping}
      this.refused = null; // the turn refused with a 429: offered "Try again" when the hold ends
      this.composing = false; // an input method is building a word in the box
      this.audio = new AudioQueue(() => this.audioChanged());
    }

    connectedCallback() {
      if (!this.built) this.build();
      this.budget = budgetFor(this);
      this.unsubscribe = this.budget.subscribe(() => this.budgetChanged());
      this.budgetChanged();
    }

    disconnectedCallback() {
      if (this.live) this.live.controller.abort();
      this.audio.reset();
      if (this.unsubscribe) this.unsubscribe();
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
        type: 'text', class: 'ss-input', 'aria-label': 'Your message', autocomplete: 'off', dir: 'auto',
        placeholder: this.getAttribute('placeholder') || 'Ask about products, sizes, prices…',
        // Enter while an input method composes picks a candidate; it does not send half a word.
        oncompositionstart: () => { this.composing = true; },
        oncompositionend: () => { this.composing = false; },
      });
      this.sendButton = h('button', { type: 'submit', class: 'ss-button', text: 'Send' });
      this.stopButton = h('button', {
        type: 'button', class: 'ss-button ss-secondary ss-stop', hidden: true, text: 'Stop',
        'aria-label': 'Stop the answer', onclick: () => this.stop(),
      });
      // Enter in the input submits the form: keyboard-only use needs nothing more.
      const form = h('form', { class: 'ss-chat-form', onsubmit: (e) => { e.preventDefault(); this.send(); } },
        this.input, this.sendButton, this.stopButton);
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
      // `layout="dock"`: a panel as tall as the window beside the page on a wide screen; on a
      // phone a floating button that opens the chat as a full-screen sheet (storestream.css).
      const title = this.getAttribute('label') || 'Chat with us';
      this.launcher = h('button', { type: 'button', class: 'ss-button ss-chat-launcher', 'aria-expanded': 'false',
        text: title, onclick: () => this.open() });
      const head = h('div', { class: 'ss-chat-head' }, h('span', { class: 'ss-chat-title', text: title }),
        h('button', { type: 'button', class: 'ss-button ss-secondary ss-chat-close', 'aria-label': 'Close the chat',
          text: '×', onclick: () => this.close() }));
      this.panel = h('div', { class: 'ss-chat-panel', 'aria-label': title,
        onkeydown: (e) => { if (e.key === 'Escape' && this.dataset.open) this.close(); } },
      head, this.log, this.typing, this.notice, form, controls);
      this.replaceChildren(this.launcher, this.panel);
    }

    /** The phone's sheet: open over the page (the page behind does not scroll meanwhile). */
    open() {
      this.dataset.open = 'true';
      this.launcher.setAttribute('aria-expanded', 'true');
      document.documentElement.classList.add('ss-sheet-open');
      this.input.focus();
    }

    close() {
      delete this.dataset.open;
      this.launcher.setAttribute('aria-expanded', 'false');
      document.documentElement.classList.remove('ss-sheet-open');
      this.launcher.focus();
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

    /** The wait, in the shopper's language as far as the chat knows it: the words in the box,
     *  else the last question. */
    holdText(wait) {
      return holdIn(wordsFor(this.input.value || this.lastQuestion || '', this.getAttribute('lang')), wait);
    }

    /** The shared budget was held (Send disabled, the wait shown) or freed. */
    budgetChanged() {
      const wait = this.budget.wait();
      if (wait) {
        this.sendButton.disabled = true;
        this.dataset.retryAfter = String(wait);
        this.say(this.holdText(wait), true);
        return;
      }
      this.sendButton.disabled = false;
      if (this.dataset.retryAfter !== undefined) {
        delete this.dataset.retryAfter;
        this.say('');
      }
      const refused = this.refused;
      this.refused = null;
      if (refused) refused.offerRetry(() => this.ask(refused.question));
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

    /** The form: ask what is in the box (emptied once asked). */
    send() {
      if (this.sendButton.disabled || this.composing) return;
      if (this.ask(this.input.value)) this.input.value = '';
    }

    /**
     * Ask a question and stream its answer (resuming with Last-Event-ID if the connection
     * drops). Only ever called by the shopper's action: Send, a suggestion chip, Try again.
     * Returns whether it was asked (not while another answer streams or the budget is held).
     */
    ask(raw) {
      const text = String(raw || '').trim();
      if (!text || this.live) return false;
      this.lastQuestion = text;
      const wait = this.budget.wait();
      if (wait) {
        this.budgetChanged(); // shows the wait
        return false;
      }
      this.say('');
      this.audio.reset();
      this.log.append(h('div', { class: 'ss-msg ss-msg-user', dir: 'auto', text }));
      const turn = new Turn(this, text);
      this.log.append(turn.el);
      this.log.scrollTop = this.log.scrollHeight;
      this.stream(turn, this.body(text));
      return true;
    }

    async stream(turn, body) {
      const controller = new AbortController();
      const live = { turn, controller, stopping: false };
      this.live = live;
      const askAgain = () => this.ask(turn.question);
      this.dataset.state = 'streaming';
      this.stopButton.hidden = false;
      this.stopButton.disabled = false;
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
            if (turn.lastId && resumes < MAX_RESUMES && !this.budget.wait()) {
              resumes += 1;
              await this.waitToResume(retryMs, resumes, controller);
              if (controller.signal.aborted) return;
              continue;
            }
            turn.fail(turn.lastId ? 'The connection was lost before the answer finished.' : UNREACHABLE, askAgain,
              turn.lastId ? 'interrupted' : 'failed');
            return;
          }
          this.budget.learn(response);
          if (response.status === 204) { turn.finish(); return; } // resumed after the end: nothing left
          if (!response.ok) {
            const refusal = await describeRefusal(response);
            if (refusal.status === 429) {
              turn.fail(refusal.message, null, turn.lastId ? 'interrupted' : 'failed', refusal);
              this.refused = turn; // "Try again" once the wait is over, not before
              this.budget.hold(refusal.retryAfter);
            } else {
              // A resume refused (410 STREAM_EXPIRED: the answer is gone) or a server error:
              // asking again may work. Other refusals of a new question would only repeat.
              const again = turn.lastId || response.status >= 500;
              turn.fail(refusal.message, again ? askAgain : null, turn.lastId ? 'interrupted' : 'failed');
            }
            return;
          }
          if (!isEventStream(response)) {
            turn.fail('The server did not answer with a stream.');
            return;
          }
          try {
            for await (const event of readEventStream(response.body, (ms) => { retryMs = ms; })) {
              if (event.id) turn.lastId = event.id;
              resumes = 0; // progress was made: the next drop gets the full number of retries
              this.handle(turn, event.event, parseData(event.data));
              if (turn.closed) return; // the stream is over (readEventStream closes the connection)
            }
          } catch (_) {
            if (controller.signal.aborted) return;
          }
          if (turn.failed) return; // a fatal error, then the body ended without `close`
          // The body ended without `close`: the connection dropped. The server holds the
          // frames (and keeps the answer running a while); ask for the ones after the last id
          // seen (the question does not run again). A held budget would refuse that.
          if (!turn.lastId || resumes >= MAX_RESUMES || this.budget.wait()) {
            turn.fail('The connection was lost before the answer finished.', askAgain, 'interrupted');
            return;
          }
          resumes += 1;
          await this.waitToResume(retryMs, resumes, controller);
          if (controller.signal.aborted) return;
        }
      } finally {
        controller.abort(); // every way out closes this side of the stream
        if (this.live === live) this.live = null;
        // Stopped before the server's own STREAM_STOPPED arrived (it did not answer, or took
        // longer than STOP_GRACE_MS): this side stopped it.
        if (live.stopping && !turn.failed && !turn.completed) {
          turn.fail('Stopped.', askAgain, 'stopped');
          turn.el.dataset.stoppedBy = 'client';
        }
        this.stopButton.hidden = true;
        this.typing.hidden = true;
        // A stop the shopper asked for is not an error.
        const stopped = turn.el.dataset.outcome === 'stopped' && live.stopping;
        if (this.dataset.state === 'streaming') this.dataset.state = turn.failed && !stopped ? 'error' : 'done';
        turn.settle();
        if (this.dataset.retryAfter !== undefined) this.say(this.holdText(this.budget.wait()), true);
      }
    }

    /**
     * Stop the answer streaming now: POST /api/streams/{stream_id}/stop with the last event id
     * seen; the stream then ends with error{STREAM_STOPPED} and `close`. If the server does
     * not take the stop, or the stream has not ended within STOP_GRACE_MS, this side aborts it.
     */
    async stop() {
      const live = this.live;
      if (!live || live.stopping) return;
      live.stopping = true;
      live.turn.stopping = true;
      this.stopButton.disabled = true;
      this.audio.reset(); // stop speaking too
      this.typing.querySelector('.ss-typing-text').textContent = 'Stopping…';
      const { turn, controller } = live;
      const grace = setTimeout(() => controller.abort(), STOP_GRACE_MS);
      controller.signal.addEventListener('abort', () => clearTimeout(grace), { once: true });
      if (!turn.streamId || !turn.lastId) { controller.abort(); return; } // nothing to name: not started yet
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), STOP_GRACE_MS);
      let response = null;
      try {
        response = await fetch(apiUrl(this, `/api/streams/${encodeURIComponent(turn.streamId)}/stop`).href, {
          method: 'POST', headers: { 'Last-Event-ID': turn.lastId }, signal: timeout.signal,
        });
      } catch (_) {
        response = null; // unreachable or too slow
      } finally {
        clearTimeout(timer);
      }
      turn.el.dataset.stopStatus = response ? String(response.status) : 'none';
      if (!response || !response.ok) controller.abort();
    }

    async waitToResume(retryMs, attempt, controller) {
      this.say('Connection lost; reconnecting…');
      this.dataset.resumes = String(Number(this.dataset.resumes || 0) + 1);
      await sleep(Math.min(retryMs * attempt, 15000), controller.signal);
      this.say('');
    }

    /**
     * Run `render` (text or cards arriving), keeping the answer in view: down to its newest
     * line while the question and answer fit, but never past the question, so the answer's
     * first line stays in view however long the answer grows and whatever arrives under it
     * (cards, suggestions). Once the reader scrolls the log, it is left where they put it.
     */
    follow(turn, render) {
      const log = this.log;
      if (turn.scrolledTo !== null && Math.abs(log.scrollTop - turn.scrolledTo) > 2) turn.following = false;
      render();
      if (!turn.following) return;
      const anchor = turn.el.previousElementSibling || turn.el; // the question
      const top = log.scrollTop + anchor.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
      log.scrollTop = Math.max(0, Math.min(log.scrollHeight - log.clientHeight, top));
      turn.scrolledTo = log.scrollTop;
    }

    handle(turn, type, data) {
      switch (type) {
        case 'connected':
          if (typeof data.stream_id === 'string' && data.stream_id) {
            turn.streamId = data.stream_id;
            turn.el.dataset.streamId = data.stream_id;
          }
          if (typeof data.conversation_id === 'string' && data.conversation_id) turn.el.dataset.conversationId = data.conversation_id;
          if (typeof data.session_id === 'string' && data.session_id) this.sessionId = data.session_id;
          // `rtl` is trusted (the server knows the answer's language). `ltr` may be only a
          // default, so the answer's script still decides then.
          if (data.dir === 'rtl') turn.setDir('rtl', true);
          if (typeof data.language === 'string' && data.language) turn.el.setAttribute('lang', data.language);
          break;
        case 'progress':
          if (!turn.stopping) this.typing.querySelector('.ss-typing-text').textContent = data.message || 'Working…';
          if (data.step === 'tool') turn.tool(data);
          break;
        case 'results':
          this.follow(turn, () => turn.results(data, (text) => this.ask(text)));
          break;
        case 'text':
          this.follow(turn, () => turn.text(data));
          break;
        case 'audio':
          if (!turn.stopping) this.audio.add(data);
          break;
        case 'error': {
          if (data.fatal === false) {
            turn.note(data.message || 'Something went wrong, but the answer goes on.');
            break;
          }
          const code = String(data.code || '');
          const again = ASK_AGAIN_CODES.has(code) || data.retryable === true;
          const outcome = code === 'STREAM_STOPPED' ? 'stopped' : code === 'STREAM_INTERRUPTED' ? 'interrupted' : 'failed';
          const message = code === 'STREAM_STOPPED' && turn.stopping ? 'Stopped.' : (data.message || 'The answer failed.');
          turn.fail(message, again ? () => this.ask(turn.question) : null, outcome);
          if (code === 'STREAM_STOPPED') turn.el.dataset.stoppedBy = 'server';
          break;
        }
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
    constructor(chat, question) {
      this.chat = chat;
      this.question = question;
      this.streamId = null; // `connected.stream_id`: names the stream to stop
      this.lastId = null; // the last event id seen: resumes, and proves the stop is ours
      this.closed = false;
      this.failed = false;
      this.completed = false;
      this.stopping = false;
      this.fullText = '';
      this.dirFromServer = false;
      this.following = true; // the log follows this answer until the reader scrolls it
      this.scrolledTo = null; // where following last put the log
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

    /** The widgets' words in the answer's language (the server's `language`, else its script). */
    words() {
      return wordsFor(this.fullText || this.question, this.el.getAttribute('lang'));
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
      renderMarkdown(this.answer, this.fullText, this.el.getAttribute('dir') === 'rtl');
    }

    results(data, ask) {
      switch (data.type) {
        case 'product_cards': {
          const products = Array.isArray(data.products) ? data.products : [];
          this.cards.replaceChildren(...products.map((card) => productCard(this.chat, card, this.words())));
          this.cards.hidden = products.length === 0;
          // The agent's catalog search, as recorded for analytics: insights.js reports these
          // cards' views and clicks under it, as it does the search widget's.
          if (typeof data.query_id === 'string' && data.query_id) this.cards.dataset.queryId = data.query_id;
          else delete this.cards.dataset.queryId;
          this.chat.dispatchEvent(new CustomEvent('storestream-results', {
            bubbles: true, detail: { queryId: this.cards.dataset.queryId || null, stage: 'final', source: 'chat' },
          }));
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
          if (names.length) this.extra.append(h('p', { class: 'ss-sources' }, `${this.words().sources}: `, ...isolatedList(names, 'ss-source')));
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

    /** Show why the answer ended early (the text so far stays). `askAgain`, when given, adds
     *  a "Try again" button that asks the same question again as a new request. */
    fail(message, askAgain, outcome, refusal) {
      this.failed = true;
      this.el.dataset.outcome = outcome || 'failed';
      const text = troubleText(this.words(), outcome || 'failed', message, refusal);
      this.errorLine.replaceChildren(h('span', { class: 'ss-error-text', dir: 'auto', text }));
      this.errorLine.hidden = false;
      if (askAgain) this.offerRetry(askAgain);
    }

    offerRetry(askAgain) {
      if (this.errorLine.querySelector('.ss-retry')) return;
      const button = h('button', {
        type: 'button', class: 'ss-button ss-secondary ss-retry', text: retryText(this.words()),
        onclick: () => { if (askAgain()) button.remove(); }, // not while another answer streams or the budget is held
      });
      this.errorLine.append(' ', button);
    }

    finish() {
      this.completed = true;
      this.el.dataset.complete = 'true';
      this.el.dataset.outcome = 'complete';
    }

    settle() {
      this.answer.setAttribute('aria-busy', 'false');
    }
  }

  // -- <storestream-context-admin> ------------------------------------------------------------

  const TOKEN_KEY = 'storestream.adminToken';
  /**
   * The admin token, asked once per tab and kept in sessionStorage (this tab only, gone when
   * it closes), shared by every admin element of the page. Saving it tells them
   * (`storestream-admin-token` on the document), so one that waits for it loads.
   */
  const adminToken = Object.freeze({
    get: () => sessionStorage.getItem(TOKEN_KEY) || '',
    save(value) {
      sessionStorage.setItem(TOKEN_KEY, value);
      document.dispatchEvent(new Event('storestream-admin-token'));
    },
    forget: () => sessionStorage.removeItem(TOKEN_KEY),
    /** An admin `element`'s token form (as `element.tokenForm`, its input `element.tokenInput`):
     * submitting it keeps the token and calls `element.enter()` (which hides the form). */
    form(element) {
      const input = h('input', { type: 'password', class: 'ss-input', autocomplete: 'off', 'aria-label': 'Admin token', required: true });
      element.tokenInput = input;
      element.tokenForm = h('form', {
        class: 'ss-token-form',
        onsubmit: (e) => {
          e.preventDefault();
          const value = input.value.trim();
          if (!value) return;
          adminToken.save(value);
          input.value = '';
          element.enter();
        },
      }, h('label', null, 'Admin token ', input), h('button', { type: 'submit', class: 'ss-button', text: 'Use token' }));
      return element.tokenForm;
    },
    /** Forget the token and ask `element` for it again (the element hides the rest). */
    ask(element) {
      adminToken.forget();
      element.tokenForm.hidden = false;
      element.tokenInput.focus();
    },
  });
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
      adminToken.form(this);
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

    get token() { return adminToken.get(); }

    headers() { return { Authorization: `Bearer ${this.token}` }; }

    forget() {
      this.signedIn.hidden = true;
      this.uploader.hidden = true;
      this.files.replaceChildren();
      adminToken.ask(this);
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
          } else if (event.event === 'close') {
            break; // the stream is over: stop reading (the connection is closed with it)
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
  // Not a plain `if (!window.storestream)`: an element with id="storestream" is already there.
  if (!(window.storestream && window.storestream.adminToken)) window.storestream = Object.freeze({ h, adminToken });
})();
