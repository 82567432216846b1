// Drives the sandbox page. The portal panel opens the app's pages in an
// iframe through /sandbox/open/*, which posts the form Bitrix24 posts. The
// phone, customer and operator panels call /sandbox/api/*, and the page
// polls /sandbox/api/state about once a second to show what happened.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var TICKS = { sent: "✓", delivered: "✓✓", read: "✓✓" };
  var pollDelay = 1000;
  var opened = 0;
  var installPending = false;
  var portalError = "";
  var rendered = {};

  function digits(raw) {
    var d = String(raw || "").replace(/\D/g, "");
    if (!/^\s*\+/.test(raw) && d.length === 11 && d[0] === "8") {
      d = "7" + d.slice(1);
    }
    return d;
  }

  // pick returns the value of the first [condition, value] pair whose
  // condition is truthy, or fallback.
  function pick(pairs, fallback) {
    for (var i = 0; i < pairs.length; i++) {
      if (pairs[i][0]) { return pairs[i][1]; }
    }
    return fallback;
  }

  function capitalize(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // api GETs path, or POSTs body as JSON, and returns the decoded response.
  // A status other than 2xx throws with the server's {"error"} message.
  function api(path, body) {
    var opts = { headers: {} };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch("/sandbox/api/" + path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) { throw new Error(data.error || "the sandbox responded with HTTP " + res.status); }
        return data;
      });
    });
  }

  function say(id, text, isError) {
    var node = $(id);
    node.textContent = capitalize(text);
    node.classList.toggle("error", !!isError);
  }

  // act runs an action from a button, shows its outcome under the panel and
  // polls at once so the result appears without waiting.
  function act(button, statusID, run, done) {
    button.disabled = true;
    say(statusID, "");
    return run().then(function (data) {
      if (done) { say(statusID, done(data)); }
      return poll();
    }).catch(function (err) {
      say(statusID, err.message, true);
    }).finally(function () {
      button.disabled = false;
    });
  }

  // Portal panel

  var currentPage = "";

  function openPage(page) {
    currentPage = page;
    opened += 1;
    installPending = page === "install";
    $("portal-frame").src = "/sandbox/open/" + page + "?lang=" + $("lang").value + "&n=" + opened;
    document.querySelectorAll("[data-open]").forEach(function (b) {
      b.classList.toggle("active", b.dataset.open === page);
    });
  }

  // After the installer POST the frame contains the app's page, on another
  // origin. Bitrix24's wizard ends when that page calls BX24.installFinish.
  // The app's pages run without BX24.js here, so the sandbox finishes the
  // install once the app's response has loaded.
  function frameLoaded() {
    if (!installPending) { return; }
    try {
      if ($("portal-frame").contentWindow.location.pathname.indexOf("/sandbox/") === 0) { return; }
    } catch (e) {
      // A cross-origin frame: the app's install page has loaded.
    }
    installPending = false;
    api("install/finish", {}).then(function () {
      portalError = "";
      return poll();
    }).catch(function (err) {
      portalError = err.message;
      say("portal-hint", portalError, true);
    });
  }

  // portalHint names the next step of the story in the portal panel.
  function portalHint(st) {
    if (!st.portal.installed) {
      return "Start by installing the app: the portal posts its installer form into the frame below, as the Bitrix24 install wizard does.";
    }
    if (st.phone.linked.length) {
      return "The number is linked. Write as the customer below and answer in the Open Line chat.";
    }
    if (st.phone.pairing) {
      return "The settings show a QR code. Scan it with the business phone on the right.";
    }
    return "Open the WhatsApp settings of the open line, as its Contact Center tile does, and start linking a number.";
  }

  function renderPortal(p) {
    var badge = $("portal-badge");
    badge.textContent = pick([[p.installed, "installed"], [p.registered, "connector registered"]], "not installed");
    badge.className = "badge" + (p.installed ? " ok" : "");
    $("open-install").classList.toggle("primary", !p.installed);
    $("open-settings").classList.toggle("primary", p.installed);
    var line = $("line-badge");
    line.textContent = pick([[p.line_healthy, "connector active"], [p.line_active, "connector active, not connected"]],
      "connector inactive");
    line.className = "badge" + (p.line_healthy ? " ok" : "");
  }

  // Phone panel

  function renderPhone(ph) {
    var badge = $("phone-badge");
    if (ph.error) {
      badge.textContent = "simulator unreachable";
      badge.className = "badge bad";
      say("phone-status", ph.error, true);
    } else {
      badge.textContent = pick([[ph.linked.length, "linked: +" + ph.linked.join(", +")], [ph.pairing, "QR code on screen"]],
        "no device linked");
      badge.className = "badge" + (ph.linked.length ? " ok" : "");
    }
    $("scan").classList.toggle("pulse", ph.pairing && !ph.linked.length);
    $("customer-badge").textContent = ph.linked.length ? "writes to +" + ph.linked[0] : "no number to write to";
    var key = JSON.stringify(ph.devices);
    if (rendered.devices === key) { return; }
    rendered.devices = key;
    var list = $("devices");
    list.textContent = "";
    if (!ph.devices.length) {
      list.appendChild(el("li", "muted", "None yet."));
    }
    ph.devices.forEach(function (d) {
      var item = el("li");
      item.appendChild(el("strong", "", "+" + d.phone));
      item.appendChild(el("span", "muted", " " + (d.push_name || "") + " · linked " + clock(d.linked_at)));
      var state = pick([[d.unlinked, "removed"], [d.connected && d.logged_in, "online"]], "offline");
      item.appendChild(el("span", "dot " + state, state));
      list.appendChild(item);
    });
  }

  // Customer panel

  function renderCustomers(customers) {
    var current = digits($("customer-phone").value);
    var chips = $("customers");
    var key = JSON.stringify(customers.map(function (c) { return [c.phone, c.name]; })) + current;
    if (rendered.chips !== key) {
      rendered.chips = key;
      chips.textContent = "";
      customers.forEach(function (c) {
        var chip = el("button", "chip" + (c.phone === current ? " active" : ""), (c.name || "+" + c.phone));
        chip.type = "button";
        chip.title = "+" + c.phone;
        chip.addEventListener("click", function () {
          $("customer-phone").value = "+" + c.phone;
          $("customer-name").value = c.name;
          poll();
        });
        chips.appendChild(chip);
      });
    }
    var mine = customers.filter(function (c) { return c.phone === current; })[0];
    renderChat("customer-chat", mine ? mine.messages : [], customerBubble,
      "Write as the customer: the message goes to the linked business number.");
  }

  // waText renders WhatsApp's markup (*bold*, _italic_, ~strike~,
  // ```monospace```) as the phone shows it, building nodes so that no text
  // is parsed as HTML.
  function waText(text) {
    var box = el("div", "text");
    var pattern = /```([\s\S]+?)```|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
    var tags = [null, "code", "strong", "em", "s"];
    var last = 0;
    var m;
    while ((m = pattern.exec(text)) !== null) {
      box.appendChild(document.createTextNode(text.slice(last, m.index)));
      for (var i = 1; i < tags.length; i++) {
        if (m[i] !== undefined) { box.appendChild(el(tags[i], "", m[i])); }
      }
      last = pattern.lastIndex;
    }
    box.appendChild(document.createTextNode(text.slice(last)));
    return box;
  }

  function customerBubble(m) {
    var b = el("div", "bubble " + (m.mine ? "out" : "in"));
    if (m.image) {
      var img = el("img");
      img.src = m.image;
      img.alt = "Picture sent by the customer";
      b.appendChild(img);
    }
    if (m.note) { b.appendChild(el("div", "note", m.note)); }
    if (m.text) { b.appendChild(m.mine ? el("div", "text", m.text) : waText(m.text)); }
    var meta = el("div", "meta", clock(m.time));
    var tick = el("span", "tick " + m.status, TICKS[m.status] || "");
    tick.title = m.status;
    meta.appendChild(tick);
    meta.appendChild(el("span", "tick-label", m.status));
    b.appendChild(meta);
    return b;
  }

  // Open Line panel

  function renderLine(chats) {
    var select = $("operator-chat");
    var keep = select.value;
    var key = JSON.stringify(chats.map(function (c) { return [c.chat_id, c.name]; }));
    if (rendered.options !== key) {
      rendered.options = key;
      select.textContent = "";
      chats.forEach(function (c) {
        var opt = el("option", "", c.name);
        opt.value = c.chat_id;
        select.appendChild(opt);
      });
      if (keep) { select.value = keep; }
      if (!select.value && chats.length) { select.value = chats[chats.length - 1].chat_id; }
    }
    var messages = [];
    chats.forEach(function (c) {
      messages.push({ header: c.name + " · chat " + c.chat_id });
      messages = messages.concat(c.messages);
    });
    renderChat("line-chat", messages, lineMessage,
      "Messages the portal receives through imconnector.send.messages appear here.");
  }

  function lineMessage(m) {
    if (m.header) { return el("div", "chat-header", m.header); }
    var b = el("div", "bubble " + (m.operator ? "out" : "in"));
    b.appendChild(el("div", "author", m.author));
    if (m.text) { b.appendChild(el("div", "text", m.text.replace(/\[br\]/gi, "\n"))); }
    (m.files || []).forEach(function (f) {
      if (f.error) {
        b.appendChild(el("div", "note error", "File " + f.name + " not downloaded: " + f.error));
      } else if (f.image) {
        var img = el("img");
        img.src = f.url;
        img.alt = f.name;
        b.appendChild(img);
      } else {
        var a = el("a", "", f.name);
        a.href = f.url;
        b.appendChild(a);
      }
    });
    var meta = el("div", "meta", clock(m.time));
    if (m.operator) {
      var status = pick([[m.read, "read"], [m.delivered, "delivered"]], "sent");
      var tick = el("span", "tick " + status, TICKS[status]);
      tick.title = pick([[status === "read", "imconnector.send.status.reading received"],
        [status === "delivered", "imconnector.send.status.delivery received"]], "sent to the app");
      meta.appendChild(tick);
      meta.appendChild(el("span", "tick-label", status));
    }
    b.appendChild(meta);
    if (m.error) { b.appendChild(el("div", "note error", m.error)); }
    return b;
  }

  // renderChat redraws a chat log when its messages changed and keeps it
  // scrolled to the newest message unless the reader scrolled up.
  function renderChat(id, messages, draw, emptyText) {
    var key = JSON.stringify(messages);
    if (rendered[id] === key) { return; }
    rendered[id] = key;
    var box = $(id);
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.textContent = "";
    if (!messages.length) { box.appendChild(el("p", "empty", emptyText)); }
    messages.forEach(function (m) { box.appendChild(draw(m)); });
    if (atBottom) { box.scrollTop = box.scrollHeight; }
  }

  function renderSteps(st) {
    var linked = st.phone.linked.length > 0;
    var lineMessages = [];
    st.chats.forEach(function (c) { lineMessages = lineMessages.concat(c.messages); });
    var done = {
      install: st.portal.installed,
      pairing: st.phone.pairing || linked,
      linked: linked,
      inbound: lineMessages.some(function (m) { return !m.operator; }),
      reply: lineMessages.some(function (m) { return m.operator && m.delivered; }),
      read: lineMessages.some(function (m) { return m.operator && m.read; })
    };
    var next = true;
    document.querySelectorAll("#steps li").forEach(function (li) {
      var ok = !!done[li.dataset.step];
      li.classList.toggle("done", ok);
      li.classList.toggle("next", !ok && next);
      if (!ok) { next = false; }
    });
  }

  function render(st) {
    document.body.classList.remove("offline");
    renderPortal(st.portal);
    if (!portalError) { say("portal-hint", portalHint(st)); }
    renderPhone(st.phone);
    renderCustomers(st.customers);
    renderLine(st.chats);
    renderSteps(st);
  }

  var timer = null;
  function poll() {
    clearTimeout(timer);
    return api("state").then(render).catch(function () {
      document.body.classList.add("offline");
    }).finally(function () {
      timer = setTimeout(poll, document.hidden ? 5 * pollDelay : pollDelay);
    });
  }

  // Wiring

  document.querySelectorAll("[data-open]").forEach(function (b) {
    b.addEventListener("click", function () { openPage(b.dataset.open); });
  });
  $("portal-frame").addEventListener("load", frameLoaded);
  $("lang").addEventListener("change", function () {
    // Bitrix24 opens the app's pages in the portal's language, so a page
    // already open is opened again. The installer is not repeated.
    if (currentPage && currentPage !== "install") { openPage(currentPage); }
  });

  $("scan").addEventListener("click", function () {
    act($("scan"), "phone-status", function () {
      return api("phone/scan", { phone: $("business-phone").value, push_name: $("business-name").value });
    }, function () { return "Scanned: the app links the number."; });
  });
  $("phone-logout").addEventListener("click", function () {
    act($("phone-logout"), "phone-status", function () {
      return api("phone/logout", { phone: $("business-phone").value });
    }, function () {
      return "Device removed on the phone. The settings page shows it at its next refresh; reopen the WhatsApp settings to see it now and link again.";
    });
  });

  function sendAsCustomer(button, picture) {
    var text = $("customer-text");
    act(button, "customer-status", function () {
      return api("customer/send", {
        from: $("customer-phone").value, name: $("customer-name").value, text: text.value, image: picture
      }).then(function (data) { text.value = ""; return data; });
    });
  }
  $("customer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    sendAsCustomer(e.submitter || $("customer-form").querySelector("[type=submit]"), false);
  });
  $("customer-picture").addEventListener("click", function () { sendAsCustomer($("customer-picture"), true); });
  $("customer-read").addEventListener("click", function () {
    act($("customer-read"), "customer-status", function () {
      return api("customer/read", { from: $("customer-phone").value });
    }, function (data) { return data.read ? "Read receipts sent for " + data.read + " message(s)." : "Nothing unread."; });
  });
  $("customer-phone").addEventListener("change", poll);

  $("operator-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("operator-text");
    var button = e.submitter || $("operator-form").querySelector("[type=submit]");
    act(button, "operator-status", function () {
      if (!$("operator-chat").value) {
        return Promise.reject(new Error("no dialog yet: a customer has to write first"));
      }
      return api("operator/send", { chat_id: $("operator-chat").value, text: text.value })
        .then(function (data) { text.value = ""; return data; });
    });
  });

  poll();
})();
