// Passkeys for the loginkit quickstart: no inline script, no library.
// A button with data-passkey="login" | "register" | "second-factor" runs
// the ceremony: POST data-begin for the options, ask the browser, POST
// the answer to data-finish, then go to data-next.
(function () {
  'use strict';

  function decode(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    s += '===='.slice(0, (4 - s.length % 4) % 4);
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function encode(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function creationOptions(doc) {
    var o = doc.publicKey;
    o.challenge = decode(o.challenge);
    o.user.id = decode(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return o;
  }

  function requestOptions(doc) {
    var o = doc.publicKey;
    o.challenge = decode(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return o;
  }

  function credentialJSON(c) {
    var r = c.response;
    var out = { id: c.id, rawId: encode(c.rawId), type: c.type,
      clientExtensionResults: c.getClientExtensionResults(),
      response: { clientDataJSON: encode(r.clientDataJSON) } };
    if (c.authenticatorAttachment) out.authenticatorAttachment = c.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) out.response.userHandle = encode(r.userHandle);
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      if (!res.ok) return res.text().then(function (t) { throw new Error(t.trim() || res.statusText); });
      return res;
    });
  }

  function run(btn) {
    var kind = btn.dataset.passkey;
    var status = document.getElementById(btn.dataset.status);
    var finish = btn.dataset.finish;
    if (kind === 'register') {
      var name = document.getElementById(btn.dataset.name);
      finish += '?name=' + encodeURIComponent(name ? name.value : '');
    }
    if (status) status.textContent = '';
    btn.disabled = true;
    post(btn.dataset.begin).then(function (res) { return res.json(); }).then(function (doc) {
      return kind === 'register'
        ? navigator.credentials.create({ publicKey: creationOptions(doc) })
        : navigator.credentials.get({ publicKey: requestOptions(doc) });
    }).then(function (cred) {
      return post(finish, credentialJSON(cred));
    }).then(function () {
      window.location.assign(btn.dataset.next);
    }).catch(function (err) {
      btn.disabled = false;
      if (status) status.textContent = err.message || String(err);
    });
  }

  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest('[data-passkey]');
    if (!btn) return;
    ev.preventDefault();
    if (!window.PublicKeyCredential) {
      var status = document.getElementById(btn.dataset.status);
      if (status) status.textContent = 'This browser does not support passkeys.';
      return;
    }
    run(btn);
  });
})();
