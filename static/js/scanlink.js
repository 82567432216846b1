// Public scan link page. Pairing already started when the page was served;
// polling its status keeps the attempt alive until the link expires.
(function () {
  'use strict';

  var B = window.B24WA;

  document.addEventListener('DOMContentLoaded', function () {
    var root = document.getElementById('scanlink');
    if (!root) {
      return;
    }
    var base = root.getAttribute('data-base');
    var lang = root.getAttribute('data-lang');
    var query = '?lang=' + encodeURIComponent(lang);
    var block = root.querySelector('[data-pairing]');
    var countdown = root.querySelector('[data-role=link-countdown]');
    var deadline = Date.now() + (Number(root.getAttribute('data-expires-in')) || 0) * 1000;
    var pairing;

    // finish replaces the pairing block with the link's outcome (expired,
    // revoked, used or unknown), as the server worded it.
    function finish(text) {
      pairing.stop();
      window.clearInterval(timer);
      root.querySelector('[data-role=pairing-card]').hidden = true;
      var outcome = root.querySelector('[data-role=outcome]');
      outcome.querySelector('[data-role=outcome-text]').textContent = text;
      outcome.hidden = false;
    }

    function tick() {
      var left = (deadline - Date.now()) / 1000;
      countdown.textContent = root.getAttribute('data-t-left').replace('{time}', B.formatDuration(left));
    }

    pairing = new B.Pairing(block, {
      statusURL: base + '/status' + query,
      startURL: base + '/pairing' + query,
      phoneURL: base + '/phone' + query,
      qrURL: function (v) { return base + '/qr.png?v=' + v; },
      request: function (method, url, body) {
        return B.request(method, url, { body: body }).then(function (resp) {
          if (resp.ok && resp.data.link_expires_in !== undefined) {
            deadline = Date.now() + resp.data.link_expires_in * 1000;
          }
          return resp;
        });
      },
      onFailure: function (resp) {
        if (resp.status === 404 || resp.status === 410) {
          finish((resp.data && resp.data.message) || '');
          return true;
        }
        return false;
      },
      onSuccess: function () {
        window.clearInterval(timer);
        root.querySelector('[data-role=link-countdown]').closest('dd').textContent = '—';
        var card = root.querySelector('[data-role=pairing-card]');
        card.querySelector('h2').hidden = true;
        card.querySelector('.same-phone').hidden = true;
      }
    });

    var timer = window.setInterval(tick, 1000);
    tick();
  });
})();
