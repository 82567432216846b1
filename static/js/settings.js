// Settings page of a line and the app's main page, both shown in the
// Bitrix24 iframe. API calls carry the frame token from data-token in the
// X-Frame-Token header, because iframes get no third-party cookies.
(function () {
  'use strict';

  var B = (window.B24WA = window.B24WA || {});

  // How often a page with a linked device reloads the device state.
  var STATE_REFRESH_MS = 30000;

  // fit requests that Bitrix24 size the iframe to the page. Without BX24.js (the
  // page opened outside Bitrix24, or the script failed to load) it does
  // nothing.
  function fit() {
    if (window.BX24 && typeof window.BX24.fitWindow === 'function') {
      window.BX24.fitWindow();
    }
  }

  function initFrame() {
    if (window.BX24 && typeof window.BX24.init === 'function') {
      window.BX24.init(fit);
    }
    if (window.ResizeObserver) {
      var pending = false;
      new ResizeObserver(function () {
        if (!pending) {
          pending = true;
          window.requestAnimationFrame(function () { pending = false; fit(); });
        }
      }).observe(document.body);
    }
  }

  function SettingsPage(root) {
    this.root = root;
    this.api = root.getAttribute('data-api');
    this.token = root.getAttribute('data-token');
    this.lang = root.getAttribute('data-lang');
    this.panel = document.getElementById('panel');
    this.expired = false;
    this.bind();
    this.initPanel();
  }

  SettingsPage.prototype.request = function (method, path, body, accept) {
    var self = this;
    return B.request(method, this.api + path, { token: this.token, body: body, accept: accept }).then(function (resp) {
      if (resp.status === 401) {
        self.sessionExpired();
      }
      return resp;
    });
  };

  // sessionExpired stops every timer and shows how to continue, because no
  // request can succeed with an expired frame token.
  SettingsPage.prototype.sessionExpired = function () {
    if (this.expired) {
      return;
    }
    this.expired = true;
    this.stopTimers();
    var banner = document.createElement('div');
    banner.className = 'banner error';
    banner.setAttribute('role', 'alert');
    banner.setAttribute('data-role', 'session-expired');
    banner.textContent = this.root.getAttribute('data-t-expired-session');
    this.root.insertBefore(banner, this.panel);
    fit();
  };

  SettingsPage.prototype.stopTimers = function () {
    if (this.pairing) {
      this.pairing.stop();
    }
    window.clearTimeout(this.stateTimer);
    window.clearInterval(this.linkTimer);
  };

  SettingsPage.prototype.initPanel = function () {
    var self = this;
    B.localTimes(this.panel, this.lang);
    var block = this.panel.querySelector('[data-pairing]');
    var device = this.panel.querySelector('#device');
    if (block) {
      this.pairing = new B.Pairing(block, {
        statusURL: this.api + '/pairing',
        startURL: this.api + '/pairing',
        phoneURL: this.api + '/pairing/phone',
        qrURL: function (v) { return self.api + '/qr.png?v=' + v + '&t=' + encodeURIComponent(self.token); },
        request: function (method, url, body) { return self.request(method, url.slice(self.api.length), body); },
        onSuccess: function () { window.setTimeout(function () { self.reloadPanel(); }, 1200); },
        onFailure: function (resp) { return resp.status === 401; },
        onChange: fit
      });
    } else if (device && device.getAttribute('data-linked') === 'true') {
      this.stateTimer = window.setTimeout(function () { self.reloadPanel(); }, STATE_REFRESH_MS);
    }
    this.initScanLink();
    fit();
  };

  // reloadPanel renders the panel again on the server, for example after the
  // phone linked or the device was logged out.
  SettingsPage.prototype.reloadPanel = function () {
    var self = this;
    if (this.expired) {
      return;
    }
    if (this.panel.querySelector('[data-role=logout-confirm]:not([hidden])')) {
      this.stateTimer = window.setTimeout(function () { self.reloadPanel(); }, STATE_REFRESH_MS);
      return;
    }
    this.request('GET', '/panel', null, 'text/html').then(function (resp) {
      if (!resp.ok) {
        if (!self.expired) {
          self.stateTimer = window.setTimeout(function () { self.reloadPanel(); }, STATE_REFRESH_MS);
        }
        return;
      }
      self.stopTimers();
      self.panel.innerHTML = resp.data;
      self.initPanel();
    });
  };

  SettingsPage.prototype.bind = function () {
    var self = this;
    var actions = {
      'logout-ask': function () { self.toggleLogout(true); },
      'logout-cancel': function () { self.toggleLogout(false); },
      logout: function (btn) { self.logout(btn); },
      'create-link': function (btn) { self.createLink(btn); },
      'revoke-link': function (btn) { self.revokeLink(btn); },
      'copy-link': function () { self.copyLink(); }
    };
    this.panel.addEventListener('click', function (e) {
      var btn = e.target.closest('[data-action]');
      var action = btn && actions[btn.getAttribute('data-action')];
      if (action) {
        e.preventDefault();
        action(btn);
      }
    });
    this.panel.addEventListener('submit', function (e) {
      if (e.target.getAttribute('data-role') === 'mail-form') {
        e.preventDefault();
        self.sendMail(e.target);
      }
    });
  };

  SettingsPage.prototype.toggleLogout = function (open) {
    var confirmBox = this.panel.querySelector('[data-role=logout-confirm]');
    var ask = this.panel.querySelector('[data-action=logout-ask]');
    confirmBox.hidden = !open;
    ask.hidden = open;
    fit();
  };

  SettingsPage.prototype.logout = function (btn) {
    var self = this;
    btn.disabled = true;
    this.request('POST', '/logout').then(function (resp) {
      btn.disabled = false;
      if (resp.ok) {
        self.reloadPanel();
      } else if (resp.status !== 401) {
        self.toggleLogout(false);
        self.flash('#device', (resp.data && resp.data.message) || self.root.getAttribute('data-t-network'));
      }
    });
  };

  // flash shows an error under a section's heading.
  SettingsPage.prototype.flash = function (sectionSelector, text) {
    var section = this.panel.querySelector(sectionSelector);
    var el = document.createElement('p');
    el.className = 'banner error';
    el.setAttribute('role', 'alert');
    el.textContent = text;
    section.appendChild(el);
    fit();
  };

  window.B24WA.SettingsPage = SettingsPage;

  document.addEventListener('DOMContentLoaded', function () {
    initFrame();
    var root = document.getElementById('settings');
    if (root) {
      new SettingsPage(root);
      return;
    }
    var app = document.getElementById('app-page');
    if (app) {
      B.localTimes(app, app.getAttribute('data-lang'));
      fit();
    }
  });
})();
