// The circulation desk: keeps the focus in the scan input, and sends each scan in the
// background so the screen does not reload between two barcodes. Without this script the
// form posts and the page comes back with the result (post/redirect/get); with it, the
// same POST is sent with fetch, the answer page is read, and the results, the patron and
// the form are swapped in. No sound: the results are in a polite live region.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk || !window.fetch || !window.DOMParser) {
    return;
  }

  function input() {
    return document.getElementById("scan");
  }

  function keepFocus() {
    var scan = input();
    if (scan) {
      scan.focus();
    }
  }

  // A scanner types into whatever has the focus: bring it back to the input when it
  // falls on nothing (a click on the page's background), never away from another control.
  document.addEventListener("focusout", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body || active === document.documentElement) {
        keepFocus();
      }
    }, 0);
  });

  function swap(html) {
    var next = new DOMParser().parseFromString(html, "text/html");
    var fresh = next.getElementById("desk");
    if (!fresh) {
      return false;
    }
    // The log is a live region: its element stays, only its items change, so screen
    // readers announce the new line.
    var log = document.getElementById("desk-log");
    var freshLog = fresh.querySelector("#desk-log");
    if (log && freshLog) {
      log.innerHTML = freshLog.innerHTML;
      freshLog.parentNode.replaceChild(log, freshLog);
    }
    desk.replaceWith(fresh);
    desk = fresh;
    if (next.title) {
      document.title = next.title;
    }
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !desk.contains(form) || form.method.toLowerCase() !== "post") {
      return;
    }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    })
      .then(function (response) {
        var url = response.url;
        return response.text().then(function (html) {
          if (response.ok && swap(html)) {
            if (url && window.history && window.history.replaceState) {
              window.history.replaceState(null, "", url);
            }
            keepFocus();
          } else {
            form.submit();
          }
        });
      })
      .catch(function () {
        form.submit();
      });
  });

  keepFocus();
})();
