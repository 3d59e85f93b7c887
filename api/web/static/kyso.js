// Kyso web UI: small helpers over htmx (no framework).
(function () {
  "use strict";
  // Before a form is sent again, clear its own alert region (#<form id>-error).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (element && element.id) {
      var region = document.getElementById(element.id + "-error");
      if (region) { region.textContent = ""; }
    }
  });
  // A network failure (service down) is said in Vietnamese too.
  document.addEventListener("htmx:sendError", function (event) {
    var element = event.detail.elt;
    var region = (element && element.id && document.getElementById(element.id + "-error")) ||
      document.getElementById("alerts");
    if (region) {
      region.innerHTML = '<p class="alert alert-error"><strong>Lỗi:</strong> không kết nối được ' +
        'với máy chủ Kyso — kiểm tra mạng rồi thử lại.</p>';
    }
  });
  // "Select all" boxes: <input type=checkbox data-select-all="name">.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.dataset && box.dataset.selectAll) {
      document.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]')
        .forEach(function (other) { other.checked = box.checked; });
    }
  });
})();
