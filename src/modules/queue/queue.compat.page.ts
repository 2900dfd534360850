/**
 * A stand-in for the original web client's page ("Kitty Getter"), written for Agora: the same
 * routes called the same way — `get-token`, a posted `token-field` form to `post-token`, the
 * `update` stream's unnamed lines and `start-delay` when the picture is put away — so what the
 * original page relied on is exercised by a real browser. Served by the compatibility profile at
 * the queue's root; its script and style are static files under `static/`.
 */

import type { FastifyReply } from 'fastify';

const escapeAttr = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The page; `base` is the queue's route prefix ('' at the root). */
export function kittyPage(base: string): string {
  const b = escapeAttr(base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kitty Getter</title>
<link rel="stylesheet" href="${b}/static/kitty.css">
<script src="${b}/static/kitty.js" defer></script>
</head>
<body data-base="${b}">
<main>
  <h1>Kitty Getter</h1>
  <section id="token-part" aria-labelledby="take">
    <h2 id="take">Take a token</h2>
    <form id="get-token-part"><button type="submit">Get a token</button></form>
    <p id="show-token-content" hidden>Your token: <strong id="token"></strong>
      <span id="timer"></span></p>
  </section>
  <section id="check-part" aria-labelledby="claim">
    <h2 id="claim">Your turn?</h2>
    <form id="check-token">
      <label for="token-field">Token</label>
      <input id="token-field" name="token-field" autocomplete="off" maxlength="3" required>
      <button type="submit">Get my kitty</button>
    </form>
    <div id="image-toolbar" hidden>
      <img id="image" alt="Your kitty">
      <p><a id="download" download>Download</a> · <span id="seconds"></span>
        <button type="button" id="done">Done</button></p>
    </div>
  </section>
  <p id="status" role="status"></p>
  <section id="queue-tablet-part" aria-labelledby="line">
    <h2 id="line">The line</h2>
    <div class="columns">
      <div id="first-column"></div><div id="second-column"></div>
      <div id="third-column"></div><div id="forth-column"></div>
    </div>
    <p id="more"></p>
  </section>
</main>
</body>
</html>
`;
}

/** Sends the page (any route's reply: it is HTML whatever the route's JSON schema). */
export function sendKittyPage(reply: FastifyReply, base: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .send(kittyPage(base));
}

export const KITTY_STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafaf7}
main{max-width:52rem;margin:0 auto;padding:1rem}
h1{margin:.5rem 0}section{margin:1rem 0}
button{font:inherit;padding:.4rem .9rem;border-radius:.4rem;border:1px solid #3a3a3c;background:#fff;cursor:pointer}
input{font:inherit;padding:.35rem;width:5rem;text-transform:uppercase}
.columns{display:grid;grid-template-columns:repeat(4,1fr);gap:.5rem}
.token-field{font-family:ui-monospace,monospace;padding:.1rem .4rem;border:1px solid #c7c7cc;border-radius:.3rem;margin:.15rem 0;background:#fff}
#image{max-width:100%;height:auto;display:block}
#status{min-height:1.5rem;font-weight:600}
`;

/** The page's script: plain browser JavaScript, like the original's, without a library. */
export const KITTY_SCRIPT = `'use strict';
(function () {
  var base = document.body.dataset.base || '';
  var columns = ['first-column', 'second-column', 'third-column', 'forth-column'].map(function (id) {
    return document.getElementById(id);
  });
  var overflow = [];
  var status = document.getElementById('status');
  var imageTimer = null;
  var tokenTimer = null;

  function tag(code) {
    var div = document.createElement('div');
    div.className = 'token-field';
    div.textContent = code;
    return div;
  }
  function showMore() {
    document.getElementById('more').textContent = overflow.length ? '+' + overflow.length + ' more' : '';
  }
  function add(code, position) {
    if (position <= 64) columns[Math.floor((position - 1) / 16)].appendChild(tag(code));
    else overflow.push(tag(code));
    showMore();
  }
  function removeFirst() {
    if (!columns[0].firstElementChild) return;
    columns[0].removeChild(columns[0].firstElementChild);
    for (var i = 1; i < columns.length; i++) {
      var next = columns[i].firstElementChild;
      if (next) columns[i - 1].appendChild(next);
    }
    if (overflow.length) columns[3].appendChild(overflow.shift());
    showMore();
  }

  var stream = new EventSource(base + '/update');
  stream.onmessage = function (e) {
    var parts = e.data.split(' ');
    if (parts[0] === 'update-remove') removeFirst();
    else if (parts[0] === 'update-append') add(parts[1], parseInt(parts[2], 10));
    else if (parts[0] === 'update-redtokens') {
      overflow = parts.slice(1).filter(Boolean).map(tag);
      showMore();
    }
  };

  function countdown(el, seconds, done) {
    var left = seconds;
    el.textContent = left + ' seconds remain';
    return setInterval(function () {
      left -= 1;
      el.textContent = left + ' seconds remain';
      if (left <= 0) done();
    }, 1000);
  }

  document.getElementById('get-token-part').addEventListener('submit', function (event) {
    event.preventDefault();
    fetch(base + '/get-token').then(function (r) { return r.json(); }).then(function (data) {
      if (data.status !== 'ok') { status.textContent = 'You were banned'; return; }
      document.getElementById('token').textContent = data.token;
      document.getElementById('token-field').value = data.token;
      document.getElementById('show-token-content').hidden = false;
      status.textContent = '';
      clearInterval(tokenTimer);
      tokenTimer = countdown(document.getElementById('timer'), 15, function () {
        clearInterval(tokenTimer);
        document.getElementById('show-token-content').hidden = true;
      });
    }, function () { status.textContent = 'The server cannot be reached'; });
  });

  function putAway() {
    clearInterval(imageTimer);
    document.getElementById('image-toolbar').hidden = true;
    document.getElementById('image').removeAttribute('src');
    document.getElementById('check-token').hidden = false;
    fetch(base + '/start-delay');
  }
  document.getElementById('done').addEventListener('click', putAway);

  var MESSAGES = {
    wrong_turn: "It's not your turn",
    cheater: "You're cheater therefore you banned",
    banned: 'You were banned',
    db_empty: 'There are no any tokens',
    ended: 'Your token has ended: take a new one'
  };
  document.getElementById('check-token').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = new URLSearchParams(new FormData(event.target));
    fetch(base + '/post-token', { method: 'POST', body: form }).then(function (r) {
      return r.json();
    }).then(function (data) {
      if (data.status === 'success') {
        status.textContent = '';
        document.getElementById('image').src = data.image_url;
        document.getElementById('download').href = data.image_url;
        document.getElementById('check-token').hidden = true;
        document.getElementById('image-toolbar').hidden = false;
        imageTimer = countdown(document.getElementById('seconds'), 60, putAway);
      } else {
        status.textContent = MESSAGES[data.status] || 'There are no any tokens';
      }
    }, function () { status.textContent = 'The server cannot be reached'; });
  });
})();
`;
