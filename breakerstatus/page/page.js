// The status page: polls the handler's JSON, renders it, filters it, and
// sends commands. Plain JavaScript, no framework; every text goes into the
// page through textContent, never as markup.
(function () {
  'use strict';
  var root = document.getElementById('fg');
  var refresh = parseInt(root.getAttribute('data-refresh'), 10) || 0;
  var commands = root.getAttribute('data-commands') === 'true';
  var content = document.getElementById('fg-content');
  var announce = document.getElementById('fg-announce');
  var conn = document.getElementById('fg-conn');
  var fName = document.getElementById('fg-f-name');
  var fKey = document.getElementById('fg-f-key');
  var fState = document.getElementById('fg-f-state');
  var token = document.getElementById('fg-token');
  var jsonURL = new URL(window.location.href);
  jsonURL.searchParams.set('format', 'json');
  var postURL = new URL(window.location.href);
  postURL.search = '';
  var status = null;
  var states = null; // "name\u0000key" -> state, to announce changes
  var keepUntil = 0; // a command's result stays on screen until then (ms)

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function dur(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) { return s + ' s'; }
    if (s < 3600) { return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; }
    if (s < 86400) { return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'; }
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function pct(x) { return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + ' %'; }
  function clock(t) { return new Date(t).toLocaleTimeString(); }

  function probe(b) {
    switch (b.probe) {
      case 'passing': return 'calls pass';
      case 'at': return 'in ' + dur((Date.parse(b.probe_at) - Date.parse(status.generated_at)) / 1000) + ' (' + clock(b.probe_at) + ')';
      case 'next_call': return 'the next call';
      case 'unknown': return 'no estimate';
      case 'now': return 'admitting probes';
      case 'manual': return 'only by a command';
    }
    return b.probe;
  }

  function cause(c) {
    if (!c) { return ''; }
    var parts = [c.outcome === 'error' ? (c.decision || '') + ' error' : c.outcome];
    if (c.rule) { parts.push('rule ' + c.rule); }
    if (c.error_type) { parts.push('error.type ' + c.error_type); }
    if (c.outcome === 'success' && c.duration_seconds > 0) { parts.push(c.duration_seconds.toFixed(3) + ' s'); }
    return parts.join(', ');
  }

  function transition(t, withName) {
    var s = clock(t.at) + ' ' + (withName ? (t.key ? t.name + ' [' + t.key + '] ' : t.name + ' ') : '') +
      t.from.replace('_', ' ') + ' → ' + t.to.replace('_', ' ') + ' (' + t.reason;
    if (t.by) { s += ' by ' + t.by; }
    s += ')';
    if (t.window_calls) { s += ', window ' + t.window_failures + '/' + t.window_calls + ' failed'; }
    if (t.cause) { s += '; cause: ' + cause(t.cause); }
    return el('li', { text: s });
  }

  function stateBadge(s) { return el('span', { 'class': 'state s-' + s, text: s.replace('_', ' ') }); }

  // share formats a fraction as a percentage: 0.25 -> "25%", 0.333 -> "33.3%".
  function share(f) { return (Math.round(f * 1000) / 10) + '%'; }

  // enforcementBadge says in words that a breaker does not refuse every
  // call it would refuse; nothing for one that does (the default).
  function enforcementBadge(b) {
    switch (b.enforcement_mode) {
      case 'shadow':
        return el('span', { 'class': 'enf enf-shadow', title: 'shadow mode: reports what it would refuse, refuses nothing but a forced open', text: 'shadow' });
      case 'partial':
        return el('span', { 'class': 'enf enf-partial', title: 'refuses this share of the calls it would refuse', text: 'enforcing ' + share(b.enforcement) });
    }
    return null;
  }

  // capLine describes a group's cap on open keys, and how full it is.
  function capLine(g) {
    var p = el('p', { 'class': 'cap', 'data-cap': g.has_cap ? 'capped' : 'none', 'data-trips-capped': String(g.trips_capped) });
    if (!g.has_cap) {
      p.appendChild(el('span', { text: 'Open keys ' + g.open_keys + ' (no cap)' }));
      if (g.trips_capped) { p.appendChild(document.createTextNode('; trips capped: ' + g.trips_capped)); }
      return p;
    }
    var full = g.open_keys >= g.max_open_keys;
    p.appendChild(el('span', { text: 'Open keys ' + g.open_keys + ' of at most ' + g.max_open_keys + ' (cap ' + share(g.max_open_fraction) + ')' }));
    if (full) { p.appendChild(el('strong', { 'class': 'at-cap', text: ' at the cap' })); }
    p.appendChild(document.createTextNode('; trips capped: ' + g.trips_capped));
    return p;
  }

  function cmdButtons(target, what) {
    var box = el('div', { 'class': 'cmds' });
    [['reset', 'Reset'], ['disable', 'Disable'], ['metrics_only', 'Metrics only'], ['force_open', 'Force open']].forEach(function (c) {
      var b = el('button', { type: 'button', 'class': c[0] === 'force_open' ? 'danger' : '', 'data-cmd': c[0],
        'data-target': JSON.stringify(target), 'data-focus': c[0] + '\u0000' + JSON.stringify(target),
        'aria-label': c[1] + ' ' + what, text: c[1] });
      box.appendChild(b);
    });
    return box;
  }

  function matches(b, groupName) {
    var n = fName.value.trim().toLowerCase();
    var k = fKey.value.trim().toLowerCase();
    var s = fState.value;
    if (n && (groupName || b.name).toLowerCase().indexOf(n) < 0) { return false; }
    if (k && (groupName === null || b.key.toLowerCase().indexOf(k) < 0)) { return false; }
    if (s === '!closed') { return b.state !== 'closed'; }
    return !s || b.state === s;
  }

  function row(b, group) {
    var name = group ? (b.overflow ? b.key + ' (overflow)' : (b.key === '' ? '(empty key)' : b.key)) : b.name;
    var what = group ? group + ' key ' + b.key : b.name;
    var slow = b.window.slow.map(function (s) { return pct(s.rate) + ' ≥ ' + s.threshold_seconds + ' s'; }).join('; ');
    var trs = b.transitions;
    var trCell;
    if (!b.recording) {
      trCell = el('span', { 'class': 'muted', text: 'not recorded (build with the registry\u2019s Hooks)' });
    } else if (trs.length === 0) {
      trCell = el('span', { 'class': 'muted', text: 'none yet' });
    } else {
      var ol = el('ol', { 'class': 'tr' });
      trs.slice(1).forEach(function (t) { ol.appendChild(transition(t, false)); });
      trCell = el('div', null, el('ol', { 'class': 'tr' }, transition(trs[0], false)),
        trs.length > 1 ? el('details', null, el('summary', { text: (trs.length - 1) + ' earlier' }), ol) : null);
    }
    var lastErr = b.last_counted_error ? clock(b.last_counted_error.at) + ': ' + cause(b.last_counted_error) : '–';
    var tr = el('tr', { 'data-name': group || b.name, 'data-key': group ? b.key : '', 'data-state': b.state },
      el('th', { scope: 'row', 'data-label': group ? 'Key' : 'Breaker' }, name),
      el('td', { 'data-label': 'State' }, stateBadge(b.state), enforcementBadge(b)),
      el('td', { 'data-label': 'For', 'class': 'num', text: dur(b.since_seconds) }),
      el('td', { 'data-label': 'Calls', 'class': 'num', text: String(b.window.calls) }),
      el('td', { 'data-label': 'Failure rate', 'class': 'num', text: pct(b.window.failure_rate) }),
      el('td', { 'data-label': 'Slow rate', 'class': 'num', text: slow || '–' }),
      el('td', { 'data-label': 'Failure streak', 'class': 'num', text: String(b.consecutive_failures) }),
      el('td', { 'data-label': 'Re-opens', 'class': 'num', text: String(b.reopens) }),
      el('td', { 'data-label': 'Next probe', text: probe(b) }),
      el('td', { 'data-label': 'Last counted error', text: lastErr }),
      el('td', { 'data-label': 'Last transitions' }, trCell));
    if (commands) {
      var target = group ? { name: group, key: b.key } : { name: b.name };
      tr.appendChild(el('td', { 'data-label': 'Commands' },
        b.overflow ? el('span', { 'class': 'muted', text: 'shared by many keys: use the group\u2019s commands' }) : cmdButtons(target, what)));
    }
    return tr;
  }

  function table(caption, first, rows) {
    var heads = [first, 'State', 'For', 'Calls', 'Failure rate', 'Slow rate', 'Failure streak', 'Re-opens', 'Next probe', 'Last counted error', 'Last transitions'];
    if (commands) { heads.push('Commands'); }
    var thead = el('thead', null, el('tr', null));
    heads.forEach(function (h) { thead.firstChild.appendChild(el('th', { scope: 'col', text: h })); });
    var tbody = el('tbody');
    rows.forEach(function (r) { tbody.appendChild(r); });
    return el('table', null, el('caption', { 'class': 'muted', text: caption }), thead, tbody);
  }

  function render() {
    if (!status) { return; }
    var focus = document.activeElement && document.activeElement.getAttribute('data-focus');
    var frag = document.createDocumentFragment();
    var shown = 0;
    var total = status.breakers.length;
    var rows = status.breakers.filter(function (b) { return matches(b, null); }).map(function (b) { return row(b, null); });
    shown += rows.length;
    frag.appendChild(el('section', { 'aria-labelledby': 'fg-h-breakers' },
      el('h2', { id: 'fg-h-breakers', text: 'Breakers' }),
      rows.length ? table(rows.length + ' of ' + status.breakers.length + ' breakers', 'Breaker', rows) :
        el('p', { 'class': 'empty', text: status.breakers.length ? 'No breaker matches the filters.' : 'No breakers are listed.' })));
    status.groups.forEach(function (g, i) {
      total += g.breakers.length;
      var grows = g.breakers.filter(function (b) { return matches(b, g.name); }).map(function (b) { return row(b, g.name); });
      shown += grows.length;
      var id = 'fg-h-group-' + i;
      var sec = el('section', { 'aria-labelledby': id },
        el('h2', { id: id, text: 'Group ' + g.name + ' (' + g.keys + (g.keys === 1 ? ' key' : ' keys') + ')' }), capLine(g));
      if (commands) {
        sec.appendChild(el('div', { 'class': 'group-cmds' }, el('span', { 'class': 'muted', text: 'Every key: ' }),
          cmdButtons({ name: g.name, all: true }, 'every key of group ' + g.name)));
      }
      sec.appendChild(grows.length ? table(grows.length + ' of ' + g.breakers.length + ' keys listed', 'Key', grows) :
        el('p', { 'class': 'empty', text: g.breakers.length ? 'No key matches the filters.' : 'The group holds no keys.' }));
      if (g.omitted) { sec.appendChild(el('p', { 'class': 'muted', text: g.omitted + ' more keys (closed ones last) are not listed.' })); }
      frag.appendChild(sec);
    });
    var recent = el('ol', { 'class': 'tr', reversed: '' });
    status.recent_transitions.slice(0, 30).forEach(function (t) { recent.appendChild(transition(t, true)); });
    frag.appendChild(el('section', { 'aria-labelledby': 'fg-h-recent' },
      el('h2', { id: 'fg-h-recent', text: 'Recent transitions' }),
      status.recent_transitions.length ? recent : el('p', { 'class': 'empty', text: 'None recorded yet.' })));
    content.replaceChildren(frag);
    document.getElementById('fg-generated').textContent = new Date(status.generated_at).toLocaleString();
    document.getElementById('fg-generated').setAttribute('datetime', status.generated_at);
    content.setAttribute('data-shown', shown + '/' + total);
    if (focus) {
      var again = Array.prototype.find.call(content.querySelectorAll('[data-focus]'), function (e) { return e.getAttribute('data-focus') === focus; });
      if (again) { again.focus(); }
    }
  }

  function announceChanges() {
    var next = {};
    var changes = [];
    function see(b, g) {
      var id = (g || b.name) + '\u0000' + b.key;
      next[id] = b.state;
      if (states && states[id] !== undefined && states[id] !== b.state) {
        changes.push((g ? g + ' [' + b.key + ']' : b.name) + ' is now ' + b.state.replace('_', ' '));
      }
    }
    status.breakers.forEach(function (b) { see(b, null); });
    status.groups.forEach(function (g) { g.breakers.forEach(function (b) { see(b, g.name); }); });
    states = next;
    if (changes.length && Date.now() > keepUntil) { announce.textContent = changes.join('; ') + '.'; }
  }

  function load() {
    return fetch(jsonURL, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (st) {
        status = st;
        conn.textContent = '';
        announceChanges();
        render();
      })
      .catch(function (e) { conn.textContent = 'Could not refresh: ' + e.message + '. Retrying.'; });
  }

  function send(cmd, target) {
    var body = { command: cmd, name: target.name };
    if (target.all) { body.all = true; } else if (target.key !== undefined) { body.key = target.key; }
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token && token.value) { headers.Authorization = 'Bearer ' + token.value; }
    var what = target.name + (target.all ? ' (every key)' : target.key !== undefined ? ' [' + target.key + ']' : '');
    announce.textContent = 'Sending ' + cmd.replace('_', ' ') + ' to ' + what + '…';
    announce.setAttribute('data-result', 'pending');
    return fetch(postURL, { method: 'POST', headers: headers, body: JSON.stringify(body), credentials: 'same-origin' })
      .then(function (r) {
        keepUntil = Date.now() + 2 * Math.max(refresh, 1000);
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) {
            announce.textContent = 'Done: ' + what + ' is now ' + j.state.replace('_', ' ') + ' (' + cmd.replace('_', ' ') + ' by ' + j.by + ').';
            announce.setAttribute('data-result', 'ok');
          } else {
            announce.textContent = 'Refused (' + r.status + '): ' + (j.error || r.statusText);
            announce.setAttribute('data-result', 'refused');
          }
        });
      })
      .catch(function (e) {
        announce.textContent = 'Command failed: ' + e.message;
        announce.setAttribute('data-result', 'failed');
      })
      .then(load);
  }

  content.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-cmd]');
    if (!b) { return; }
    send(b.getAttribute('data-cmd'), JSON.parse(b.getAttribute('data-target')));
  });
  [fName, fKey].forEach(function (i) { i.addEventListener('input', render); });
  fState.addEventListener('change', render);
  document.getElementById('fg-filters').addEventListener('submit', function (ev) { ev.preventDefault(); });

  load();
  if (refresh > 0) { window.setInterval(load, refresh); }
}());
