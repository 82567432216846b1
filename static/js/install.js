// Finishes the installation inside Bitrix24. The server renders the page
// with data-install-finish="1" only after it registered the connector and
// bound every event, so BX24.installFinish is never called for a failed
// install. The CSP forbids inline scripts, hence this file.
(function () {
  'use strict';
  var page = document.getElementById('install');
  if (!page || page.getAttribute('data-install-finish') !== '1') {
    return;
  }
  if (typeof BX24 === 'undefined') {
    // data-bx24 is empty when BX24_SCRIPT_URL=- leaves the script out on
    // purpose (offline tryouts, the sandbox). Only a script that failed to
    // load is an error.
    var note = document.getElementById('install-finish-error');
    if (note && page.getAttribute('data-bx24') === '1') {
      note.hidden = false;
    }
    return;
  }
  BX24.init(function () {
    BX24.installFinish();
  });
})();
