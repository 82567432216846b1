// Pairing block shared by the settings page and the public scan link page.
// It polls the pairing status, swaps the QR image whenever the code changes
// and shows the block of the current step. Every setting comes from data-
// attributes, because the Content-Security-Policy forbids inline scripts.
(function () {
  'use strict';

  var B = (window.B24WA = window.B24WA || {});

  // Poll intervals in milliseconds. While an attempt runs, the page must show
  // each new code well within its 20-second life. While idle, it only watches
  // for a number linked elsewhere (a scan link, another tab).
  var ACTIVE_POLL_MS = 2500;
  var IDLE_POLL_MS = 6000;

  // request sends a form-encoded request and resolves to {ok, status, data}
  // for every outcome, including network failures (status 0).
  B.request = function (method, url, opts) {
    opts = opts || {};
    var headers = { Accept: opts.accept || 'application/json' };
    if (opts.token) {
      headers['X-Frame-Token'] = opts.token;
    }
    var init = { method: method, headers: headers, credentials: 'omit', cache: 'no-store' };
    if (opts.body) {
      init.body = new URLSearchParams(opts.body);
    }
    return fetch(url, init).then(
      function (resp) {
        var parse = (opts.accept || '').indexOf('html') >= 0 ? resp.text() : resp.json();
        return parse.then(
          function (data) { return { ok: resp.ok, status: resp.status, data: data }; },
          function () { return { ok: resp.ok, status: resp.status, data: {} }; }
        );
      },
      function () { return { ok: false, status: 0, data: {} }; }
    );
  };

  // formatDuration renders seconds as m:ss.
  B.formatDuration = function (seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ':' + (s < 10 ? '0' : '') + s;
  };

  // localTimes replaces the UTC text of every <time datetime> in root with
  // the browser's local date and time in the page language.
  B.localTimes = function (root, lang) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      return;
    }
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (!isNaN(d.getTime())) {
        el.textContent = fmt.format(d);
      }
    });
  };

  // Pairing drives one [data-pairing] block. opts: statusURL, startURL,
  // phoneURL, qrURL(version), request(method, url, body), onSuccess(data),
  // onFailure(resp) for responses other than a status (returns true when it
  // handled them), onChange() after the layout changed.
  B.Pairing = function (root, opts) {
    this.root = root;
    this.opts = opts;
    this.step = root.getAttribute('data-step') || '';
    this.qrVersion = '';
    this.qrDeadline = 0;
    this.pollTimer = null;
    this.stopped = false;
    this.img = root.querySelector('[data-role=qr]');
    this.countdown = root.querySelector('[data-role=qr-countdown]');
    this.bind();
    this.update({
      step: this.step,
      qr: root.getAttribute('data-qr'),
      qr_expires_in: Number(root.getAttribute('data-qr-expires')) || 0
    });
    this.tick();
    this.schedule(0);
  };

  B.Pairing.prototype.bind = function () {
    var self = this;
    this.root.addEventListener('click', function (e) {
      var btn = e.target.closest('[data-action=start]');
      if (btn && self.root.contains(btn)) {
        e.preventDefault();
        self.start(btn);
      }
    });
    var form = this.root.querySelector('[data-role=phone-form]');
    if (form) {
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        self.pairPhone(form);
      });
    }
    if (this.img) {
      this.img.addEventListener('error', function () {
        // The code changed between the status and the image request; the
        // next poll fetches the new one.
        self.qrVersion = '';
      });
    }
    this.ticker = window.setInterval(function () { self.tick(); }, 1000);
  };

  B.Pairing.prototype.stop = function () {
    this.stopped = true;
    window.clearTimeout(this.pollTimer);
    window.clearInterval(this.ticker);
  };

  B.Pairing.prototype.active = function () {
    return this.step === 'starting' || this.step === 'qr' || this.step === 'code' || this.step === 'passkey';
  };

  B.Pairing.prototype.schedule = function (delay) {
    var self = this;
    window.clearTimeout(this.pollTimer);
    if (this.stopped) {
      return;
    }
    if (delay === undefined) {
      delay = this.active() ? ACTIVE_POLL_MS : IDLE_POLL_MS;
    }
    this.pollTimer = window.setTimeout(function () { self.poll(); }, delay);
  };

  B.Pairing.prototype.poll = function () {
    var self = this;
    this.opts.request('GET', this.opts.statusURL).then(function (resp) {
      self.handle(resp, false);
      self.schedule();
    });
  };

  B.Pairing.prototype.start = function (btn) {
    var self = this;
    btn.disabled = true;
    this.showError('');
    this.update({ step: 'starting' });
    this.opts.request('POST', this.opts.startURL).then(function (resp) {
      btn.disabled = false;
      self.handle(resp, true);
      self.schedule();
    });
  };

  B.Pairing.prototype.pairPhone = function (form) {
    var self = this;
    var button = form.querySelector('button');
    var input = form.querySelector('input[name=phone]');
    button.disabled = true;
    this.showError('');
    this.opts.request('POST', this.opts.phoneURL, { phone: input.value }).then(function (resp) {
      button.disabled = false;
      self.handle(resp, true);
    });
  };

  // handle applies a response. Errors of an action the user took are shown.
  // Errors of a background poll are shown only when they persist, so one lost
  // request does not flash a warning.
  B.Pairing.prototype.handle = function (resp, userAction) {
    if (resp.ok) {
      this.failures = 0;
      this.showError('');
      this.update(resp.data);
      return;
    }
    if (this.opts.onFailure && this.opts.onFailure(resp)) {
      return;
    }
    this.failures = (this.failures || 0) + 1;
    if (userAction || this.failures > 1) {
      var text = (resp.data && resp.data.message) || this.root.getAttribute('data-t-network');
      this.showError(text);
    }
    if (userAction && this.step === 'starting') {
      this.update({ step: '' });
    }
  };

  B.Pairing.prototype.update = function (data) {
    var step = data.step || '';
    if (step === 'qr' && data.qr && data.qr !== this.qrVersion && this.img) {
      this.qrVersion = data.qr;
      this.img.src = this.opts.qrURL(data.qr);
    }
    if (data.qr_expires_in) {
      this.qrDeadline = Date.now() + data.qr_expires_in * 1000;
    }
    this.setText('[data-role=code]', data.code);
    this.setText('[data-role=phone]', data.phone);
    this.setText('[data-role=message]', data.message);
    var changed = step !== this.step;
    this.step = step;
    this.show();
    this.tick();
    if (step === 'success') {
      this.stop();
      if (this.opts.onSuccess) {
        this.opts.onSuccess(data);
      }
    }
    if (changed && this.opts.onChange) {
      this.opts.onChange();
    }
  };

  B.Pairing.prototype.setText = function (selector, value) {
    if (value === undefined || value === null) {
      return;
    }
    this.root.querySelectorAll(selector).forEach(function (el) { el.textContent = value; });
  };

  // show reveals the block of the current step and hides the others.
  B.Pairing.prototype.show = function () {
    var key = this.step || 'idle';
    this.root.setAttribute('data-step', this.step);
    this.root.querySelectorAll('[data-when]').forEach(function (el) {
      el.hidden = el.getAttribute('data-when') !== key;
    });
    this.root.querySelectorAll('[data-when-any]').forEach(function (el) {
      el.hidden = el.getAttribute('data-when-any').split(' ').indexOf(key) < 0;
    });
  };

  B.Pairing.prototype.showError = function (text) {
    var el = this.root.querySelector('[data-role=error]');
    if (!el) {
      return;
    }
    el.textContent = text || '';
    el.hidden = !text;
  };

  // tick updates the countdown to the QR code's next change.
  B.Pairing.prototype.tick = function () {
    if (!this.countdown || this.step !== 'qr') {
      return;
    }
    var left = Math.round((this.qrDeadline - Date.now()) / 1000);
    if (left > 0) {
      this.countdown.textContent = this.root.getAttribute('data-t-qr-refresh').replace('{s}', String(left));
    } else {
      this.countdown.textContent = this.root.getAttribute('data-t-qr-waiting');
    }
  };
})();
