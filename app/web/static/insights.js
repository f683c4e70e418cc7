/*
 * Search analytics for the storestream widgets: the shopper events of POST /api/events, sent
 * by themselves. Load it beside storestream.js (<script src="/static/insights.js" defer>).
 *
 * - view: each card of a search's final results, once per search and product (the search
 *   widget's cards, and those the chat shows from the sales agent's catalog search);
 * - click: a card opened (a click anywhere on it), with its position (from 1);
 * - add_to_cart: an element with `data-ss-add-to-cart` inside a card pressed; a search element
 *   with the `add-to-cart` attribute gets such a button on every card (the demo store's).
 *
 * Each event names the search's `query_id` (kept as `data-query-id`: on the search element, on
 * each chat answer's list of cards). Events
 * are queued and sent in batches of at most BATCH (one request of the events' own budget,
 * never the search budget), views after a short pause, clicks and add-to-carts at once, with
 * `keepalive` so a click that leaves the page still arrives. A refused or failed send is
 * dropped: analytics never retries into a shopper's bandwidth.
 */
(() => {
  'use strict';

  const BATCH = 50; // at most ANALYTICS_BATCH_MAX (100 by default)
  const VIEW_DELAY_MS = 1000;
  const SEARCH = 'storestream-search';
  const HOSTS = 'storestream-search, storestream-chat';
  const CARD = 'storestream-search .ss-card, storestream-chat .ss-card';
  const queues = new Map(); // events URL -> events waiting
  let timer = null;
  const viewed = new Set(); // query_id + sku already reported as seen

  /** POST /api/events on the server the widget talks to (a search's `api`, a chat's `endpoint`). */
  function eventsUrl(host) {
    const base = (host.getAttribute(host.localName === SEARCH ? 'api' : 'endpoint') || '').trim();
    return new URL('/api/events', new URL(base || '/', location.href)).href;
  }

  function send(url, events) {
    for (let i = 0; i < events.length; i += BATCH) {
      fetch(url, {
        method: 'POST', keepalive: true, credentials: 'omit',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ events: events.slice(i, i + BATCH) }),
      }).catch(() => {});
    }
  }

  function flush() {
    timer = null;
    for (const [url, events] of queues) send(url, events);
    queues.clear();
  }

  function queue(search, event, now) {
    const url = eventsUrl(search);
    if (!queues.has(url)) queues.set(url, []);
    queues.get(url).push(event);
    if (now) {
      clearTimeout(timer);
      flush();
    } else if (timer === null) {
      timer = setTimeout(flush, VIEW_DELAY_MS);
    }
  }

  /** The card's widget and event fields: its sku, its position among the cards, the search's id. */
  function describe(card) {
    const host = card.closest(HOSTS);
    const named = card.closest('[data-query-id]');
    const queryId = named && host && host.contains(named) ? named.dataset.queryId : '';
    const sku = card.dataset.sku;
    if (!host || !queryId || !sku) return null;
    const position = Array.prototype.indexOf.call(card.parentElement.children, card) + 1;
    return { search: host, fields: { query_id: queryId, sku, position } };
  }

  function addButtons(search) {
    for (const card of search.querySelectorAll('.ss-card')) {
      if (card.querySelector('[data-ss-add-to-cart]')) continue;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'ss-button ss-add-to-cart';
      button.dataset.ssAddToCart = '';
      button.textContent = 'Add to cart';
      (card.querySelector('.ss-card-body') || card).append(button);
    }
  }

  document.addEventListener('storestream-results', (e) => {
    const search = e.target;
    if (!(search instanceof Element) || !search.matches(HOSTS)) return;
    if (search.localName === SEARCH && search.hasAttribute('add-to-cart')) addButtons(search);
    if (e.detail.stage !== 'final' || !e.detail.queryId) return;
    for (const card of search.querySelectorAll('.ss-card')) {
      const found = describe(card);
      if (!found || found.fields.query_id !== e.detail.queryId) continue; // a chat's earlier answers
      const key = `${found.fields.query_id} ${found.fields.sku}`;
      if (viewed.has(key)) continue;
      viewed.add(key);
      queue(search, { type: 'view', ...found.fields }, false);
    }
  });

  document.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const card = target && target.closest(CARD);
    if (!card) return;
    const found = describe(card);
    if (!found) return;
    const type = target.closest('[data-ss-add-to-cart]') ? 'add_to_cart' : 'click';
    if (type === 'add_to_cart') {
      target.closest('[data-ss-add-to-cart]').textContent = 'Added';
    }
    queue(found.search, { type, ...found.fields }, true);
  });

  // A tab closing or hidden: what is queued goes now.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden' && timer !== null) { clearTimeout(timer); flush(); } });
})();
