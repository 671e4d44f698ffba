/* A page that shows a secret once (a generated private key, a host's enrollment token) is the answer
   to the POST that made it. Its history entry is replaced with the address in data-reload-address,
   so reloading the page asks for that address (GET): the secret is not shown again and the form is
   not sent twice. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var marked = document.querySelector("[data-reload-address]");
  if (marked && window.history.replaceState) {
    window.history.replaceState(null, "", marked.dataset.reloadAddress);
  }
});
