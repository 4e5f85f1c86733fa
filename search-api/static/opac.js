// Shiori OPAC: suggestions as you type, as an ARIA 1.2 combobox with a listbox.
// The page works without this file; the search form is a plain GET form.
// Suggestions come from GET {form.dataset.suggest}?q=…&limit=8 ([{text, kind, count}]).
// Text is only ever set with textContent: nothing from the server becomes markup.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var LIMIT = 8;

  function init(form) {
    var input = form.querySelector("input[name=q]");
    var url = form.getAttribute("data-suggest");
    if (!input || !url || !window.fetch) return;

    var labels = {
      title: form.getAttribute("data-label-title") || "",
      author: form.getAttribute("data-label-author") || ""
    };
    var countText = form.getAttribute("data-count") || "{0}";

    var listId = input.id + "-suggestions";
    var combo = document.createElement("div");
    combo.className = "search__combo";
    input.parentNode.insertBefore(combo, input);
    combo.appendChild(input);

    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", form.querySelector("label[for=" + input.id + "]").textContent);
    list.hidden = true;
    combo.appendChild(list);

    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    combo.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    var timer = null;
    var controller = null;
    var active = -1;
    var items = [];
    var lastAsked = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (items.length === 0) return close();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      active = index;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      input.value = item.getAttribute("data-value");
      close();
      form.submit();
    }

    function show(suggestions) {
      list.textContent = "";
      items = [];
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-value", s.text);
        var text = document.createElement("span");
        text.textContent = s.text;
        li.appendChild(text);
        if (labels[s.kind]) {
          var kind = document.createElement("span");
          kind.className = "suggestions__kind";
          kind.textContent = labels[s.kind];
          li.appendChild(kind);
        }
        // mousedown, not click: the input keeps focus and does not close the list first.
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(li);
        items.push(li);
      });
      active = -1;
      status.textContent = items.length ? countText.replace("{0}", String(items.length)) : "";
      open();
    }

    function ask() {
      var q = input.value.trim();
      if (q === lastAsked) return;
      lastAsked = q;
      if (controller) controller.abort();
      if (q.length === 0) {
        items = [];
        list.textContent = "";
        return close();
      }
      controller = window.AbortController ? new AbortController() : null;
      var address = url + "?q=" + encodeURIComponent(q) + "&limit=" + LIMIT;
      fetch(address, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (suggestions) {
          if (input.value.trim() !== q) return;
          show(Array.isArray(suggestions) ? suggestions : []);
        })
        .catch(function () { /* aborted or offline: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          if (!expanded) { open(); if (list.hidden) return; }
          event.preventDefault();
          highlight(active + 1 >= items.length ? 0 : active + 1);
          break;
        case "ArrowUp":
          if (!expanded) return;
          event.preventDefault();
          highlight(active <= 0 ? items.length - 1 : active - 1);
          break;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          }
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", function () { close(); });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-suggest]");
    for (var i = 0; i < forms.length; i++) init(forms[i]);
    // On a phone the facets sit above the results as a closed 絞り込み toggle; without
    // this script (or on a wide screen) they stay open.
    if (window.matchMedia && window.matchMedia("(max-width: 51.99em)").matches) {
      var facets = document.querySelectorAll("details.facets__details");
      for (var j = 0; j < facets.length; j++) facets[j].removeAttribute("open");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
