// Browser upload of an image: create the record through the API, then send the file with
// XMLHttpRequest (its upload progress events drive the bar), then open the image's page.
// The file goes straight from the disk to the controller's streaming PUT; nothing buffers it.
"use strict";

(function () {
  const PLACEHOLDER = "00000000-0000-0000-0000-000000000000";

  function field(form, name) {
    return form.querySelector(`[name="upload-${name}"]`);
  }

  function errorText(request, fallback) {
    try {
      const body = JSON.parse(request.responseText);
      return body.error ? body.error.message : fallback;
    } catch (_) {
      return fallback;
    }
  }

  function start(form) {
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const file = field(form, "file").files[0];
    const progress = form.querySelector(".upload-progress");
    const bar = progress.querySelector("[role=progressbar]");
    const fill = bar.querySelector(".fill");
    const status = progress.querySelector(".upload-status");
    const failure = form.querySelector(".upload-error");
    const button = form.querySelector("button[type=submit]");

    function fail(message) {
      failure.textContent = message;
      failure.hidden = false;
      button.disabled = false;
    }

    function show(percent, text) {
      bar.setAttribute("aria-valuenow", String(percent));
      fill.style.width = `${percent}%`;
      status.textContent = text;
    }

    if (!file) {
      fail("Choose a file to upload.");
      return;
    }
    failure.hidden = true;
    button.disabled = true;
    const diskFormat = field(form, "disk_format").value;
    const amazon = ["aki", "ari", "ami"].includes(diskFormat);
    const create = new XMLHttpRequest();
    create.open("POST", form.dataset.createUrl);
    create.setRequestHeader("Content-Type", "application/json");
    create.setRequestHeader("X-CSRFToken", csrf);
    create.onerror = () => fail("The controller could not be reached.");
    create.onload = () => {
      if (create.status !== 201) {
        fail(errorText(create, `The image could not be created (HTTP ${create.status}).`));
        return;
      }
      const image = JSON.parse(create.responseText);
      const send = new XMLHttpRequest();
      send.open("PUT", form.dataset.fileUrl.replace(PLACEHOLDER, image.id));
      send.setRequestHeader("Content-Type", "application/octet-stream");
      send.setRequestHeader("X-CSRFToken", csrf);
      progress.hidden = false;
      show(0, "Sending…");
      send.upload.onprogress = (event) => {
        if (event.lengthComputable) {
          const percent = Math.floor((event.loaded * 100) / event.total);
          show(percent, `${percent}% sent`);
        }
      };
      send.onerror = () => fail("The upload was cut off.");
      send.onload = () => {
        if (send.status === 200) {
          show(100, "Checked and stored.");
          window.location.assign(form.dataset.detailUrl.replace(PLACEHOLDER, image.id));
        } else {
          fail(errorText(send, `The upload was refused (HTTP ${send.status}).`));
        }
      };
      send.send(file);
    };
    create.send(
      JSON.stringify({
        name: field(form, "name").value,
        disk_format: diskFormat,
        container_format: amazon ? diskFormat : "bare",
        visibility: field(form, "visibility").value,
        owner: form.dataset.project,
      }),
    );
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("image-upload");
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        start(form);
      });
    }
  });
})();
