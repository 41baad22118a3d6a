/* Hygeia console behaviour that htmx does not cover: following an agent's answer over SSE.
 * The server renders (and escapes) every piece of HTML; this file only places it. */
(function () {
  "use strict";

  function part(root, name) {
    return root.querySelector('[data-part="' + name + '"]');
  }

  function place(target, payload, replace) {
    if (!target || !payload.html) return;
    if (replace) {
      target.innerHTML = payload.html;
    } else {
      target.insertAdjacentHTML("beforeend", payload.html);
    }
    if (window.htmx) window.htmx.process(target);
  }

  function setBusy(root, busy) {
    var form = document.getElementById("ask-form");
    if (form) {
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = busy;
    }
    root.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function startStream(root) {
    if (root.dataset.started) return;
    root.dataset.started = "1";
    var tokens = part(root, "tokens");
    var status = part(root, "status");
    var finished = false;
    var source = new EventSource(root.getAttribute("data-stream"));
    setBusy(root, true);

    function read(event) {
      try {
        return JSON.parse(event.data);
      } catch (err) {
        return {};
      }
    }
    function finish(message) {
      finished = true;
      source.close();
      setBusy(root, false);
      if (status && message) status.textContent = message;
    }

    source.addEventListener("meta", function (event) {
      var payload = read(event);
      place(part(root, "meta"), payload, true);
      var conversation = document.getElementById("conversation_id");
      if (conversation && payload.conversation_id) conversation.value = payload.conversation_id;
      if (status) status.textContent = "Consulting sources…";
    });
    source.addEventListener("tool", function (event) {
      place(part(root, "tools"), read(event), false);
    });
    source.addEventListener("token", function (event) {
      if (tokens) tokens.textContent += read(event).text || "";
    });
    source.addEventListener("answer", function (event) {
      if (tokens) tokens.remove();
      place(part(root, "final"), read(event), true);
      if (status) status.textContent = "Answer ready.";
    });
    source.addEventListener("done", function () {
      finish("");
    });
    source.onerror = function (event) {
      if (event.data) {
        place(part(root, "final"), read(event), true); /* the server's own "error" event */
        return;
      }
      if (!finished) finish("The connection to the server was lost before the answer finished.");
    };
  }

  function scan(root) {
    var nodes = (root || document).querySelectorAll("[data-stream]");
    for (var i = 0; i < nodes.length; i++) startStream(nodes[i]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    scan(document);
    document.body.addEventListener("htmx:load", function (event) {
      scan(event.target.parentNode || document);
    });
    var askForm = document.getElementById("ask-form");
    if (askForm) {
      askForm.addEventListener("htmx:afterRequest", function (event) {
        var question = document.getElementById("ask-question");
        if (event.detail.successful && question) question.value = "";
      });
    }
    var reset = document.getElementById("new-conversation");
    if (reset) {
      reset.addEventListener("click", function () {
        var conversation = document.getElementById("conversation_id");
        if (conversation) conversation.value = "";
        var log = document.getElementById("chat-log");
        if (log) log.innerHTML = "";
      });
    }
  });
})();
