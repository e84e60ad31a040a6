// A document prepared by the task worker: poll its state, move the progress bar, announce the
// progress to screen readers, and show the download (or the failure and its retry) when it ends.
// Without JavaScript the page offers an « Actualiser » link (no meta refresh: WCAG 2.2.1).
(function () {
  "use strict";
  var container = document.getElementById("export-job");
  var announce = document.getElementById("export-job-announce");
  var job = container && container.querySelector("[data-status-url]");
  if (!job) {
    return;
  }
  var url = job.getAttribute("data-status-url");
  var lastAnnounced = -1;
  var delay = 1500;

  function say(text) {
    if (announce) {
      announce.textContent = text;
    }
  }

  function update(data) {
    if (data.state === "done" || data.state === "failed") {
      container.innerHTML = data.html;
      say(data.state === "done" ? data.label : data.error);
      var target = container.querySelector("#export-job-download") || container.querySelector(".fr-alert");
      if (target) {
        if (!target.hasAttribute("tabindex") && target.tagName !== "A") {
          target.setAttribute("tabindex", "-1");
        }
        target.focus();
      }
      return false;
    }
    var bar = document.getElementById("export-job-progress");
    var percent = document.getElementById("export-job-percent");
    if (bar) {
      bar.value = data.progress;
      bar.textContent = data.progress + " %";
    }
    if (percent) {
      percent.textContent = percent.textContent.replace(/\d+\s*%/, data.progress + " %");
    }
    // Announce every quarter, not every step: a live region that talks constantly is noise.
    var quarter = Math.floor(data.progress / 25);
    if (quarter !== lastAnnounced) {
      lastAnnounced = quarter;
      say(data.label + " : " + data.progress + " %");
    }
    return true;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        if (update(data)) {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        // A network hiccup: try again later, more slowly.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
