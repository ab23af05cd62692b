// The planner's page: the latest replenishment and rebalance plans, their transfers with gain
// and cost, the stock spread of a SKU before and after, a dry run and an idempotent commit.
import { api, show, cell, money, currentSession, signIn, signOut } from './api.js';

const $ = (id) => document.getElementById(id);
const message = $('message');
let current = null;

const say = (text, kind) => show(message, text, kind);
const days = (d) => (d == null ? '—' : d.toFixed(1));

async function list(select) {
  const kind = $('kind').value;
  try {
    const { plans } = await api(`/v1/plans?kind=${kind}&limit=20`);
    $('plans').replaceChildren(...plans.map((p) => {
      const tr = document.createElement('tr');
      const link = document.createElement('a');
      link.href = `#${p.id}`;
      link.textContent = `#${p.id}`;
      link.addEventListener('click', (event) => { event.preventDefault(); open(p.id); });
      const first = document.createElement('td');
      first.append(link);
      tr.append(first, cell(p.date), cell(p.status), cell(p.totals.transfers, 'num'), cell(p.totals.units, 'num'),
        cell(money(p.totals.net), 'num'), cell(money(p.totals.greedy_net), 'num'));
      return tr;
    }));
    if (!plans.length) say(`No ${kind} plan yet: press Dry run.`);
    const id = select || (plans[0] && plans[0].id);
    if (id) await open(id);
  } catch (error) {
    say(error.message, 'error');
  }
}

async function open(id) {
  const store = $('filter-store').value.trim();
  const sku = $('filter-sku').value.trim();
  const query = new URLSearchParams();
  if (store) query.set('store', store);
  if (sku) query.set('sku', sku);
  try {
    const plan = await api(`/v1/plans/${id}?${query}`);
    const fresh = !current || current.id !== plan.id;
    current = plan;
    $('plan').classList.remove('hidden');
    $('plan-title').textContent = `Plan #${plan.id} · ${plan.kind} · ${plan.date} · ${plan.status}`;
    const t = plan.totals;
    const totals = [['Transfers', t.transfers], ['Units', t.units], ['Gain', money(t.gain)], ['Cost', money(t.cost)],
      ['Net', money(t.net)], ['Greedy net', money(t.greedy_net)], ['SKUs planned', `${t.skus_planned} / ${t.skus_considered}`]];
    $('totals').replaceChildren(...totals.map(([name, value]) => {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = name;
      dd.textContent = value;
      div.append(dt, dd);
      return div;
    }));
    $('skipped').textContent = plan.skipped.length
      ? `Skipped: ${plan.skipped.map((s) => `${s.skus} ${s.reason.replaceAll('_', ' ')}`).join(', ')}.` : '';
    $('commit').disabled = plan.status !== 'proposed';
    $('commit').textContent = plan.status === 'committed' ? 'Committed' : 'Commit';
    $('lines').replaceChildren(...plan.transfers.map(lineRow));
    showMore(query, plan.next);
    if (fresh) {
      const skus = [...new Set(plan.transfers.map((l) => l.sku))];
      $('chart-sku').replaceChildren(...skus.map((s) => new Option(s, s)));
      chart();
    }
  } catch (error) {
    say(error.message, 'error');
  }
}

/// A plan's lines come a page at a time (a plan can have millions): the button fetches the next.
function lineRow(l) {
  const tr = document.createElement('tr');
  tr.append(cell(l.sku), cell(l.from), cell(l.to), cell(l.qty, 'num'), cell(l.distance_km.toFixed(1), 'num'),
    cell(money(l.gain), 'num'), cell(money(l.cost), 'num'), cell(money(l.net), 'num'),
    cell(`${days(l.cover_days_before)} → ${days(l.cover_days_after)}`),
    cell(l.transfer_id ? `#${l.transfer_id}` : (l.dropped || '')));
  return tr;
}

let nextPage = null;

function showMore(query, next) {
  nextPage = next ? { query, next } : null;
  $('more-lines').classList.toggle('hidden', !next);
}

$('more-lines').addEventListener('click', async () => {
  if (!nextPage || !current) return;
  const query = new URLSearchParams(nextPage.query);
  query.set('after', nextPage.next);
  try {
    const page = await api(`/v1/plans/${current.id}?${query}`);
    $('lines').append(...page.transfers.map(lineRow));
    showMore(nextPage.query, page.next);
  } catch (error) {
    say(error.message, 'error');
  }
});

function chart() {
  const sku = $('chart-sku').value;
  $('chart').classList.toggle('hidden', !sku);
  if (sku) $('chart').src = `/v1/plans/${current.id}/chart.svg?sku=${encodeURIComponent(sku)}`;
}

$('chart-sku').addEventListener('change', chart);
$('kind').addEventListener('change', () => { current = null; $('plan').classList.add('hidden'); list(); });
$('filter').addEventListener('click', () => current && open(current.id));

$('dry-run').addEventListener('click', async () => {
  const button = $('dry-run');
  if (button.disabled) return;
  button.disabled = true;
  say('Planning…');
  try {
    const kind = $('kind').value;
    const plan = await api(`/v1/plans/${kind}`, { method: 'POST', body: {} });
    if (plan.id) {
      say(`Plan #${plan.id} proposed: ${plan.totals.transfers} transfers, net ${money(plan.totals.net)}.`, 'ok');
      current = null;
      await list(plan.id);
    } else {
      say(plan.message, 'ok');
    }
  } catch (error) {
    say(error.message, 'error');
  } finally {
    button.disabled = false;
  }
});

$('commit').addEventListener('click', async () => {
  const button = $('commit');
  if (button.disabled || !current) return;
  if (!confirm(`Commit plan #${current.id}? Its ${current.totals.transfers} transfers will be created.`)) return;
  button.disabled = true;
  try {
    const plan = await api(`/v1/plans/${current.id}/commit`, { method: 'POST', body: {} });
    say(`Plan #${plan.id} committed: ${plan.totals.committed} transfers created.`, 'ok');
    await list(plan.id);
  } catch (error) {
    say(error.message, 'error');
    button.disabled = false;
  }
});

/// Shows the runs to a signed-in planner (or admin), the sign-in form to anyone else.
function signedIn(me) {
  $('sign-in').classList.toggle('hidden', Boolean(me));
  $('runs').classList.toggle('hidden', !me);
  $('signed-in').classList.toggle('hidden', !me);
  $('who').textContent = me ? `${me.name || me.actor} · ${me.role}` : '';
  if (!me) $('plan').classList.add('hidden');
  if (me && !me.scopes.includes('read_plans')) say(`${me.role} may not read plans; sign in as a planner.`, 'error');
  else if (me) return list();
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await signedIn(await signIn($('name').value.trim(), $('password').value));
  } catch (error) {
    say(error.status === 401 ? 'Wrong name or password.' : error.message, 'error');
  } finally {
    $('password').value = '';
  }
});

$('sign-out').addEventListener('click', async () => {
  try {
    await signOut();
    signedIn(null);
    say('Signed out.', 'ok');
  } catch (error) {
    say(error.message, 'error');
  }
});

currentSession().then(signedIn, (error) => say(error.message, 'error'));
