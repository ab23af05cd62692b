// The clerk's page: sign in (the store comes with the clerk's account), find a product across
// the chain, bring units to the store or ship to the customer at the counter, credited to this
// store and clerk by the service itself.
import { api, ApiError, newKey, show, cell, when, money, currentSession, signIn, signOut } from './api.js';

const $ = (id) => document.getElementById(id);
const message = $('message');
const state = { clerk: null, store: null, stores: [], sku: null, searchSeq: 0 };
const pending = { transfer: null, order: null };

function say(text, kind) { show(message, text, kind); }

async function loadStores() {
  try {
    // Every store, a page of 1,000 at a time.
    const stores = [];
    let next = '';
    do {
      const after = next ? `&after=${encodeURIComponent(next)}` : '';
      const page = await api(`/v1/locations?kind=store&limit=1000${after}`);
      stores.push(...page.locations);
      next = page.next;
    } while (next);
    state.stores = stores;
  } catch (error) {
    say(error.message, 'error');
  }
}

/// Takes the signed-in person as the page's clerk; only a store clerk has a store to serve.
async function become(me) {
  if (!me) {
    state.clerk = null;
    state.store = null;
    return;
  }
  if (me.role !== 'clerk') {
    say(`${me.name || me.actor} is signed in as ${me.role}; this page is for store clerks.`, 'error');
    return;
  }
  state.clerk = me.name;
  state.store = me.locations[0];
  await loadStores();
}

function render() {
  const signedIn = Boolean(state.clerk && state.store);
  $('sign-in').classList.toggle('hidden', signedIn);
  $('lookup').classList.toggle('hidden', !signedIn);
  $('signed-in').classList.toggle('hidden', !signedIn);
  $('who').textContent = signedIn ? `${state.store} · ${state.clerk}` : '';
  if (signedIn) {
    const store = state.stores.find((s) => s.code === state.store);
    if (store && !$('order-lat').value) {
      $('order-lat').value = store.latitude.toFixed(4);
      $('order-lon').value = store.longitude.toFixed(4);
    }
  }
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('clerk').value.trim();
  if (!name || !$('password').value) return say('Enter your clerk id and password.', 'error');
  try {
    await become(await signIn(name, $('password').value));
  } catch (error) {
    return say(error.status === 401 ? 'Wrong clerk id or password.' : error.message, 'error');
  } finally {
    $('password').value = '';
  }
  if (!state.clerk) return;
  say(`Signed in at ${state.store}.`, 'ok');
  render();
  $('search').focus();
});

$('sign-out').addEventListener('click', async () => {
  try {
    await signOut();
  } catch (error) {
    return say(error.message, 'error');
  }
  await become(null);
  say('Signed out.', 'ok');
  render();
});

let searchTimer;
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 120);
});
$('search').addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const first = $('suggestions').querySelector('button');
  if (first) first.click();
  else if ($('search').value.trim()) choose($('search').value.trim().toUpperCase());
});

async function search() {
  const q = $('search').value.trim();
  const list = $('suggestions');
  if (!q) return list.replaceChildren();
  const seq = ++state.searchSeq;
  try {
    const { skus } = await api(`/v1/skus?q=${encodeURIComponent(q)}&limit=10`);
    if (seq !== state.searchSeq) return; // a newer keystroke answered first
    if (!skus.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = `No SKU starts with "${q}".`;
      return list.replaceChildren(li);
    }
    list.replaceChildren(...skus.map((sku) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.sku = sku.code;
      button.textContent = `${sku.code} — ${sku.name}`;
      button.addEventListener('click', () => choose(sku.code));
      li.append(button);
      return li;
    }));
  } catch (error) {
    if (seq === state.searchSeq) say(error.message, 'error');
  }
}

async function arrivals(sku) {
  const { items } = await api(`/v1/transfers?location=${encodeURIComponent(state.store)}&limit=500`);
  return items.filter((t) => t.sku === sku && t.to === state.store && (t.status === 'planned' || t.status === 'shipped'));
}

async function choose(code) {
  $('suggestions').replaceChildren();
  $('search').value = code;
  try {
    const [stock, coming] = await Promise.all([
      api(`/v1/stock/${encodeURIComponent(code)}?store=${encodeURIComponent(state.store)}`),
      arrivals(code),
    ]);
    state.sku = stock.sku;
    pending.transfer = null;
    pending.order = null;
    $('stock-title').textContent = `${stock.sku} — ${stock.name}`;
    const rows = stock.locations.map((l) => {
      const tr = document.createElement('tr');
      if (l.location === state.store) tr.className = 'mine';
      const arriving = l.location === state.store
        ? coming.map((t) => `${t.qty} ${when(t.arrives_at)}`).join(', ')
        : '';
      tr.append(cell(`${l.location} ${l.name}`), cell(l.distance_km == null ? '' : l.distance_km.toFixed(1), 'num'),
        cell(l.available, 'num'), cell(l.held, 'num'), cell(l.in_transit, 'num'), cell(arriving));
      return tr;
    });
    if (!stock.locations.length) {
      const tr = document.createElement('tr');
      tr.append(cell('No location has this SKU right now.'));
      rows.push(tr);
    }
    $('stock-rows').replaceChildren(...rows);
    $('stock').classList.remove('hidden');
    $('actions').classList.remove('hidden');
    $('transfer-result').textContent = '';
    $('order-result').textContent = '';
    say(stock.holds_unavailable ? 'Holds are unavailable right now: available counts may be high.' : '');
  } catch (error) {
    $('stock').classList.add('hidden');
    $('actions').classList.add('hidden');
    say(error.status === 404 ? `Unknown SKU "${code}".` : error.message, 'error');
  }
}

/// Runs one user intent once: the button stays disabled while it is in flight, and a retry
/// after a network failure reuses the same key so the server applies it at most once.
async function once(kind, button, send) {
  if (button.disabled) return;
  button.disabled = true;
  pending[kind] = pending[kind] || newKey(kind);
  try {
    await send(pending[kind]);
    pending[kind] = null;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 0) pending[kind] = null;
    say(error.code === 'insufficient_stock' ? `Not enough stock: ${error.message}` : error.message, 'error');
  } finally {
    button.disabled = false;
  }
}

$('transfer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const qty = Number($('transfer-qty').value);
  once('transfer', $('transfer-button'), async (key) => {
    const created = await api('/v1/transfers', { method: 'POST', key, body: { sku: state.sku, qty, to: state.store } });
    const parts = created.transfers.map((t) => `#${t.id}: ${t.qty} from ${t.from}, arrives ${when(t.arrives_at)}`);
    const cost = created.cost && created.cost.total != null ? ` Cost ${money(created.cost.total)}.` : '';
    await choose(state.sku);
    say(`Transfer requested for ${qty} × ${state.sku}.`, 'ok');
    $('transfer-result').textContent = `Requested ${parts.join('; ')}.${cost}`;
  });
});

$('order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const qty = Number($('order-qty').value);
  const latitude = Number($('order-lat').value);
  const longitude = Number($('order-lon').value);
  once('order', $('order-button'), async (key) => {
    // The order id is the intent's key: a second send returns the same order.
    const order = await api('/v1/orders', {
      method: 'POST',
      body: { id: key, lines: [{ sku: state.sku, qty }], fulfilment: { mode: 'ship', latitude, longitude } },
    });
    const from = [...new Set(order.allocations.map((a) => a.source))].join(', ');
    const credited = order.referrer ? `${order.referrer.store} · ${order.referrer.clerk}` : 'nobody';
    const text = `Order ${order.id} placed, shipping from ${from}; cost ${money(order.cost.total || 0)}. Credited to ${credited}.`;
    await choose(state.sku);
    say(text, 'ok');
    $('order-result').textContent = text;
  });
});

currentSession().then(become, (error) => say(error.message, 'error')).then(render);
