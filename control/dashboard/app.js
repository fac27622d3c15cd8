// vane's dashboard (SPEC §12): polls the admin API of the origin that served it and draws every
// rollout. Plain DOM and SVG, no dependency. Each rollout's elements are built once and updated
// in place, so focus and keyboard position survive the refreshes.
'use strict';

const POLL_MS = 500;          // status and events: a change shows within 1 s
const SERIES_MS = 1000;       // the charts' points are one a second
const WINDOW_S = 15 * 60;     // what the series endpoint holds
const SVG_NS = 'http://www.w3.org/2000/svg';
const TOKEN_KEY = 'vane.token';  // sessionStorage: gone with the browser session

const views = new Map();  // rollout name -> RolloutView
let lastEventId = 0;
/// The last poll failed: vane may have restarted, and its event ids with it (they start at 1).
let reconnecting = false;
let lastSeries = 0;

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

/// Replaces `node`'s children with what `build` makes, only when `data` changed since last time.
function renderIf(node, data, build) {
  const key = JSON.stringify(data);
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  node.replaceChildren(...build(data));
}

function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number(value.toFixed(digits)).toString();
}

function clock(time) {
  return time ? new Date(time).toLocaleTimeString() : '';
}

async function getJSON(path) {
  const answer = await fetch(path, {cache: 'no-store'});
  if (!answer.ok) throw new Error(`${path}: HTTP ${answer.status}`);
  return answer.json();
}

// ---- steps, routes, runs as text -----------------------------------------------------------

/// "setWeight 37", "pause 1h", "pause (until promoted)", "analysis success-rate", a route's name.
function describeStep(step) {
  const [kind, value] = Object.entries(step)[0] || ['step', ''];
  if (typeof value !== 'object' || value === null) return `${kind} ${value}`;
  if (kind === 'pause') return value.duration ? `pause ${value.duration}` : 'pause (until promoted)';
  if (value.name) return `${kind} ${value.name}`;
  if (Array.isArray(value.templates)) return `${kind} ${value.templates.map((t) => t.templateName).join(', ')}`;
  return `${kind} ${JSON.stringify(value)}`;
}

function inProgress(status) {
  return status.canary !== null && !status.aborted && status.phase !== 'Healthy';
}

function stepItems(status) {
  const current = inProgress(status) ? status.currentStepIndex : -1;
  return status.steps.map((step, i) => {
    const state = i === current ? 'current' : i < status.currentStepIndex && !status.aborted ? 'done' : 'next';
    const item = el('li', {class: `step ${state}`},
      el('span', {class: 'step-state', text: state === 'current' ? 'current' : state}),
      ' ', el('span', {class: 'step-text', text: describeStep(step)}));
    if (state === 'current') item.setAttribute('aria-current', 'step');
    return item;
  });
}

function weightRows(status) {
  const measured = status.measuredWeights;
  return ['stable', 'canary'].map((side) => el('tr', {},
    el('th', {scope: 'row', text: `${side} (${side === 'stable' ? status.stable : status.canary ?? 'none'})`}),
    el('td', {class: 'num', text: `${number(status.weights[side])} %`}),
    el('td', {class: 'num', text: measured ? `${number(measured[side])} %` : 'no traffic'})));
}

function routeItems(status) {
  const routes = [...status.headerRoutes.map((r) => ['header', r]), ...status.mirrorRoutes.map((r) => ['mirror', r])];
  if (routes.length === 0) return [el('li', {text: 'none'})];
  return routes.map(([kind, r]) => el('li', {},
    el('strong', {text: r.name}), ` (${kind} route${r.percentage !== undefined ? `, ${r.percentage} %` : ''}` +
    `${r.suspended ? ', suspended' : ''}): `, el('code', {text: JSON.stringify(r.match)})));
}

function runItems(runs) {
  if (runs.length === 0) return [el('p', {text: 'No analysis run in this attempt.'})];
  return runs.map((run) => el('article', {class: 'run'},
    el('h4', {}, el('span', {class: 'run-name', text: run.name}), ' ',
      el('span', {class: `phase phase-${run.phase}`, text: run.phase}),
      run.terminated ? ' (terminated)' : ''),
    run.message ? el('p', {class: 'message', text: run.message}) : '',
    ...run.metrics.map((metric) => el('table', {class: 'measurements'},
      el('caption', {},
        el('span', {class: 'metric-name', text: metric.name}), ` ${metric.phase}${metric.dryRun ? ' (dry run)' : ''}: ` +
        `${metric.successful} successful, ${metric.failed} failed, ${metric.inconclusive} inconclusive, ${metric.error} error` +
        (metric.message ? ` (${metric.message})` : '')),
      el('thead', {}, el('tr', {}, ...['Finished', 'Value', 'Phase', 'Message'].map((h) => el('th', {scope: 'col', text: h})))),
      el('tbody', {}, ...metric.measurements.map((m) => el('tr', {},
        el('td', {text: clock(m.finishedAt || m.startedAt)}),
        el('td', {class: 'num value', text: m.value}),
        el('td', {}, el('span', {class: `phase phase-${m.phase}`, text: m.phase})),
        el('td', {text: m.message || ''}))))))));
}

// ---- charts --------------------------------------------------------------------------------

function milliseconds(seconds) {
  return `${number(seconds * 1000, seconds < 0.01 ? 3 : 1)} ms`;
}

const CHARTS = [
  {title: 'Requests per second', field: 'rps', format: (v) => `${number(v, 1)} req/s`},
  {title: 'Success rate', field: 'successRate', format: (v) => `${number(v * 100, 2)} %`, max: 1},
  {title: 'Latency p50', field: 'p50', format: milliseconds},
  {title: 'Latency p99', field: 'p99', format: milliseconds},
];
const W = 300;
const H = 100;

/// "45 s", "3 min": how far back a chart reaches.
function span(seconds) {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/// An SVG line per side from the oldest point held (up to 15 minutes, at least one) to now; a
/// null value breaks the line.
function chart(spec, points) {
  const now = points.length ? Date.parse(points[points.length - 1].time) : Date.now();
  const oldest = points.length ? Date.parse(points[0].time) : now;
  const reach = Math.min(WINDOW_S, Math.max(60, (now - oldest) / 1000));
  let max = spec.max || 0;
  for (const p of points) for (const side of ['stable', 'canary']) max = Math.max(max, p[side][spec.field] ?? 0);
  const figure = svg('svg', {viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart', role: 'img'});
  figure.append(svg('line', {x1: 0, y1: H, x2: W, y2: H, class: 'axis'}));
  const latest = [];
  for (const side of ['stable', 'canary']) {
    let d = '';
    let pen = 'M';
    let last = null;
    for (const p of points) {
      const value = p[side][spec.field];
      if (value === null) { pen = 'M'; continue; }
      const x = W * (1 - (now - Date.parse(p.time)) / (reach * 1000));
      // H - 4: room for the stroke at the top; "h1" after a move: a lone second shows as a dot.
      d += `${pen}${x.toFixed(1)},${(H - ((H - 4) * value) / (max || 1)).toFixed(1)}${pen === 'M' ? 'h1' : ''}`;
      pen = 'L';
      last = value;
    }
    if (d) figure.append(svg('path', {d, class: `line ${side}`, 'stroke-linecap': 'round'}));
    latest.push(`${side} ${last === null ? 'no traffic' : spec.format(last)}`);
  }
  const top = max ? spec.format(max) : '–';
  figure.setAttribute('aria-label', `${spec.title}, last ${span(reach)}, highest ${top}; now ${latest.join(', ')}`);
  return el('figure', {class: 'chart-box'},
    el('figcaption', {text: spec.title}), figure,
    el('p', {class: 'chart-scale'}, el('span', {text: `${span(reach)} ago`}), el('span', {text: `max ${top}`}),
      el('span', {text: 'now'})),
    el('p', {class: 'chart-latest', text: latest.join(' · ')}));
}

// ---- one rollout ---------------------------------------------------------------------------

const ACTIONS = [
  {label: 'Promote', verb: 'promote'},
  {label: 'Promote full', verb: 'promote', full: true, confirm: 'skips every remaining step, pause and analysis'},
  {label: 'Abort', verb: 'abort', confirm: 'sends all traffic back to stable'},
  {label: 'Retry', verb: 'retry'},
  {label: 'Pause', verb: 'pause'},
];

class RolloutView {
  constructor(name) {
    this.name = name;
    const id = (part) => `rollout-${name}-${part}`;
    this.phase = el('span', {class: 'phase'});
    this.facts = el('p', {class: 'facts'});
    this.message = el('p', {class: 'message'});
    this.result = el('p', {class: 'action-result', role: 'status'});
    this.buttons = ACTIONS.map((action) => {
      const button = el('button', {type: 'button', class: `action action-${action.verb}${action.full ? '-full' : ''}`,
        text: action.label});
      button.addEventListener('click', () => this.act(action));
      return button;
    });
    this.steps = el('ol', {class: 'steps', 'aria-labelledby': id('steps')});
    this.weights = el('tbody');
    this.charts = el('div', {class: 'charts', 'data-points': '0'});
    this.routes = el('ul', {class: 'routes'});
    this.runs = el('div', {class: 'runs'});
    const heading = (tag, text, suffix) => el(tag, {id: id(suffix), text});
    this.root = el('section', {class: 'rollout', id: `rollout-${name}`, 'aria-labelledby': id('title')},
      el('header', {class: 'rollout-head'}, el('h2', {id: id('title'), text: name}), this.phase),
      this.facts, this.message,
      el('div', {class: 'actions', role: 'group', 'aria-label': `Actions on ${name}`}, ...this.buttons),
      this.result,
      el('div', {class: 'columns'},
        el('div', {}, heading('h3', 'Steps', 'steps'), this.steps),
        el('div', {}, heading('h3', 'Weights', 'weights'),
          el('table', {class: 'weights', 'aria-labelledby': id('weights')},
            el('thead', {}, el('tr', {}, el('th', {scope: 'col', text: 'Side'}), el('th', {scope: 'col', text: 'Set'}),
              el('th', {scope: 'col', text: 'Measured (60 s)'}))), this.weights),
          heading('h3', 'Header and mirror routes', 'routes'), this.routes)),
      heading('h3', 'Traffic, last 15 minutes', 'traffic'), this.charts,
      heading('h3', 'Analysis runs', 'runs'), this.runs);
    this.listItem = el('li', {}, el('a', {href: `#rollout-${name}`}, el('span', {text: name}), ' ',
      el('span', {class: 'phase'})));
  }

  update(status) {
    for (const node of [this.phase, this.listItem.querySelector('.phase')]) {
      node.textContent = status.phase;
      node.className = `phase phase-${status.phase}`;
    }
    const current = status.steps[status.currentStepIndex];
    const step = status.strategy !== 'canary' ? 'blue/green'
      : status.phase === 'Healthy' ? `all ${status.stepCount} steps done`
      : `step ${status.currentStepIndex + 1} of ${status.stepCount}${current ? `: ${describeStep(current)}` : ''}`;
    this.facts.textContent = `stable ${status.stable} · canary ${status.canary ?? 'none'} · desired ${status.desired} · ${step}`;
    this.message.textContent = status.aborted ? `Aborted: ${status.abortReason}` : status.message;
    const progressing = inProgress(status);
    const enabled = [progressing, progressing, progressing, status.phase === 'Degraded', progressing];
    this.buttons.forEach((button, i) => { button.disabled = !enabled[i]; });
    renderIf(this.steps, [status.steps, status.currentStepIndex, status.aborted, status.phase], () => stepItems(status));
    renderIf(this.weights, [status.weights, status.measuredWeights, status.stable, status.canary], () => weightRows(status));
    renderIf(this.routes, [status.headerRoutes, status.mirrorRoutes], () => routeItems(status));
    renderIf(this.runs, status.analysisRuns, runItems);
  }

  updateSeries(points) {
    this.charts.dataset.points = String(points.length);
    this.charts.replaceChildren(...CHARTS.map((spec) => chart(spec, points)));
  }

  async act(action) {
    const what = action.full ? 'promote full' : action.verb;
    if (action.confirm && !(await confirmAction(`${action.label} rollout ${this.name}? This ${action.confirm}.`, action.label))) {
      this.result.textContent = `${action.label}: cancelled`;
      return;
    }
    const path = `/api/v1/rollouts/${encodeURIComponent(this.name)}/${action.verb}${action.full ? '?full=true' : ''}`;
    let refused = false;
    for (;;) {
      const token = sessionStorage.getItem(TOKEN_KEY);
      const headers = token ? {Authorization: `Bearer ${token}`} : {};
      let answer;
      try {
        answer = await fetch(path, {method: 'POST', headers, cache: 'no-store'});
      } catch (e) {
        this.result.textContent = `${what} failed: ${e.message}`;
        return;
      }
      if (answer.status === 401) {
        if (token) sessionStorage.removeItem(TOKEN_KEY);
        refused = refused || Boolean(token);
        if (!(await askToken(refused ? 'The admin API refused that token. Try again.' : ''))) {
          this.result.textContent = `${what}: not sent (the admin API needs a token)`;
          return;
        }
        refused = true;  // the next 401 is about the token just given
        continue;
      }
      const body = await answer.json().catch(() => ({}));
      if (answer.ok) {
        this.result.textContent = `${what}: done`;
        this.update(body);
      } else {
        this.result.textContent = `${what} refused (HTTP ${answer.status}): ${body.error || ''}`;
      }
      return;
    }
  }
}

// ---- dialogs -------------------------------------------------------------------------------

/// Shows a modal dialog; resolves true when `ok` is pressed, false on cancel or Escape.
function ask(dialog, ok, cancel, focus) {
  return new Promise((resolve) => {
    const done = (value) => {
      ok.removeEventListener('click', yes);
      cancel.removeEventListener('click', no);
      dialog.removeEventListener('close', no);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const yes = () => done(true);
    const no = () => done(false);
    ok.addEventListener('click', yes);
    cancel.addEventListener('click', no);
    dialog.addEventListener('close', no);
    dialog.showModal();
    focus.focus();
  });
}

function confirmAction(text, label) {
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = `Yes, ${label.toLowerCase()}`;
  const cancel = document.getElementById('confirm-cancel');
  return ask(document.getElementById('confirm-dialog'), ok, cancel, cancel);
}

async function askToken(error) {
  const input = document.getElementById('token-input');
  input.value = '';
  document.getElementById('token-error').textContent = error;
  const given = await ask(document.getElementById('token-dialog'), document.getElementById('token-ok'),
    document.getElementById('token-cancel'), input);
  if (!given || input.value.trim() === '') return false;
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = '';
  return true;
}

document.getElementById('token-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') document.getElementById('token-ok').click();
});

// ---- polling -------------------------------------------------------------------------------

function showRollouts(list) {
  const names = new Set(list.map((s) => s.name));
  for (const [name, view] of views) {
    if (!names.has(name)) { view.root.remove(); view.listItem.remove(); views.delete(name); }
  }
  for (const status of list) {
    let view = views.get(status.name);
    if (!view) {
      view = new RolloutView(status.name);
      views.set(status.name, view);
      document.getElementById('rollouts').append(view.root);
      document.getElementById('rollout-list').append(view.listItem);
    }
    view.update(status);
  }
}

function showEvents(events) {
  const list = document.getElementById('events');
  for (const event of events) {
    lastEventId = Math.max(lastEventId, event.id);
    list.prepend(el('li', {class: 'event'},
      el('time', {datetime: event.time, text: clock(event.time)}), ' ',
      el('span', {class: 'event-name', text: event.event}), ' ',
      el('strong', {text: event.rollout ?? ''}), ' ', el('span', {text: event.message})));
  }
  while (list.children.length > 200) list.lastChild.remove();
}

/// Sets a live region's text only when it changes, so a screen reader hears each change once.
function say(node, text, className) {
  if (node.textContent !== text) node.textContent = text;
  node.className = className;
}

async function poll() {
  const connection = document.getElementById('connection');
  try {
    const since = reconnecting ? 0 : lastEventId;
    const [list, events] = await Promise.all([
      getJSON('/api/v1/rollouts'), getJSON(`/api/v1/events?since=${since}`)]);
    showRollouts(list.rollouts);
    if (reconnecting) {  // the whole trail again, as the (maybe new) process has it
      document.getElementById('events').replaceChildren();
      lastEventId = 0;
      reconnecting = false;
    }
    showEvents(events.events);
    if (Date.now() - lastSeries >= SERIES_MS) {
      lastSeries = Date.now();
      await Promise.all([...views.values()].map(async (view) => {
        const series = await getJSON(`/api/v1/rollouts/${encodeURIComponent(view.name)}/series`);
        view.updateSeries(series.points);
      }));
    }
    say(connection, 'live', 'live');
  } catch (e) {
    say(connection, `admin API unreachable (${e.message}); retrying`, 'error');
    reconnecting = true;
  }
  setTimeout(poll, POLL_MS);
}

poll();
