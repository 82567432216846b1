// Scan link block of the settings page: create, copy, e-mail and revoke the
// public link that lets someone without portal access link the phone.
(function () {
  'use strict';

  var B = window.B24WA;
  var P = B.SettingsPage.prototype;

  P.initScanLink = function () {
    var self = this;
    this.link = this.panel.querySelector('[data-scanlink]');
    this.linkToken = '';
    if (!this.link) {
      return;
    }
    var left = Number(this.link.getAttribute('data-expires-in')) || 0;
    this.setLinkDeadline(left);
    this.linkTimer = window.setInterval(function () { self.tickLink(); }, 1000);
  };

  P.setLinkDeadline = function (seconds) {
    this.linkDeadline = seconds > 0 ? Date.now() + seconds * 1000 : 0;
    this.tickLink();
  };

  P.tickLink = function () {
    var open = this.link.querySelector('[data-role=link-open]');
    var none = this.link.querySelector('[data-role=link-none]');
    var left = (this.linkDeadline - Date.now()) / 1000;
    if (!this.linkDeadline || left <= 0) {
      open.hidden = true;
      none.hidden = false;
      return;
    }
    open.hidden = false;
    none.hidden = true;
    var text = this.root.getAttribute('data-t-left').replace('{time}', B.formatDuration(left));
    this.link.querySelector('[data-role=link-countdown]').textContent = text;
  };

  P.linkError = function (resp) {
    var el = this.link.querySelector('[data-role=link-error]');
    var text = resp ? (resp.data && resp.data.message) || this.root.getAttribute('data-t-network') : '';
    el.textContent = text;
    el.hidden = !text;
  };

  P.createLink = function (btn) {
    var self = this;
    btn.disabled = true;
    this.linkError(null);
    this.request('POST', '/scan-links').then(function (resp) {
      btn.disabled = false;
      if (!resp.ok) {
        if (resp.status !== 401) {
          self.linkError(resp);
        }
        return;
      }
      self.linkToken = resp.data.token;
      var input = self.link.querySelector('[data-role=link-url]');
      input.value = resp.data.url;
      self.link.querySelector('[data-role=link-url-row]').hidden = false;
      self.link.querySelector('[data-role=link-hidden-note]').hidden = true;
      var mail = self.link.querySelector('[data-role=mail-form]');
      if (mail) {
        mail.hidden = false;
      }
      self.setLinkDeadline(resp.data.expires_in);
      self.copyLink();
    });
  };

  // copyLink puts the link on the clipboard. Browsers reject the clipboard
  // API in cross-origin iframes unless the portal allows it, so the fallback
  // selects the text and tells the user to copy it.
  P.copyLink = function () {
    var self = this;
    var input = this.link.querySelector('[data-role=link-url]');
    var note = this.link.querySelector('[data-role=link-copied]');
    var manual = function () {
      input.focus();
      input.select();
      var copied = false;
      try {
        copied = document.execCommand('copy');
      } catch (e) {
        copied = false;
      }
      note.textContent = self.root.getAttribute(copied ? 'data-t-copied' : 'data-t-copy-manually');
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () {
        note.textContent = self.root.getAttribute('data-t-copied');
      }, manual);
    } else {
      manual();
    }
  };

  P.revokeLink = function (btn) {
    var self = this;
    btn.disabled = true;
    this.request('DELETE', '/scan-links').then(function (resp) {
      btn.disabled = false;
      if (!resp.ok) {
        if (resp.status !== 401) {
          self.linkError(resp);
        }
        return;
      }
      self.linkToken = '';
      self.link.querySelector('[data-role=link-url]').value = '';
      self.link.querySelector('[data-role=link-url-row]').hidden = true;
      self.link.querySelector('[data-role=link-copied]').textContent = '';
      var mail = self.link.querySelector('[data-role=mail-form]');
      if (mail) {
        mail.hidden = true;
      }
      self.setLinkDeadline(0);
    });
  };

  P.sendMail = function (form) {
    var self = this;
    var input = form.querySelector('input[name=email]');
    var result = form.querySelector('[data-role=mail-result]');
    var button = form.querySelector('button');
    button.disabled = true;
    result.textContent = '';
    this.request('POST', '/scan-links/email', { email: input.value, token: this.linkToken }).then(function (resp) {
      button.disabled = false;
      if (resp.ok) {
        result.textContent = self.root.getAttribute('data-t-mail-sent').replace('{to}', resp.data.to);
        input.value = '';
      } else if (resp.status !== 401) {
        result.textContent = (resp.data && resp.data.message) || self.root.getAttribute('data-t-network');
      }
    });
  };
})();
