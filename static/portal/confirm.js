/* Destructive actions ask first. A link marked data-confirm leads to the action's confirmation page
   (apps/core/web/flow.py `confirmed`); with this script the page's confirmation opens in a modal
   dialog over the current page instead, and Cancel (or Escape) closes it and gives the focus back
   to the link. Without this script, or if the page cannot be fetched, the link is simply followed. */
"use strict";
(function () {
  var dialog = null;

  function theDialog() {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "confirm-dialog";
      dialog.setAttribute("aria-labelledby", "confirm-title");
      dialog.setAttribute("aria-describedby", "confirm-consequences");
      dialog.addEventListener("close", function () { dialog.replaceChildren(); });
      document.body.appendChild(dialog);
    }
    return dialog;
  }

  function open(link) {
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var found = new DOMParser().parseFromString(html, "text/html").getElementById("confirmation");
        if (!found) { window.location.assign(link.href); return; }
        var box = theDialog();
        box.replaceChildren(document.importNode(found, true));
        box.showModal();
      })
      .catch(function () { window.location.assign(link.href); });
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    var link = event.target.closest("a[data-confirm]");
    if (link) {
      event.preventDefault();
      open(link);
      return;
    }
    var cancel = event.target.closest("dialog [data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.closest("dialog").close();
    }
  });
})();
