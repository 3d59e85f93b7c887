// Kyso web UI: small helpers over htmx (no framework).
(function () {
  "use strict";
  // When a person sends a form, what earlier acts left on screen is cleared: every alert
  // region (#<form id>-error, #alerts) and the results the form names with
  // data-results="<id>" (the auditor's reports), so an old answer never sits under a new one.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (!element || element.tagName !== "FORM") { return; }
    document.querySelectorAll(".field-error, #alerts").forEach(function (region) {
      region.textContent = "";
    });
    var results = element.dataset.results && document.getElementById(element.dataset.results);
    if (results) { results.textContent = ""; }
  });
  // A form marked data-reset-on-success is emptied once its answer says it worked (the
  // drafter's upload: the next draft starts from a clean form, its file face included).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.hasAttribute("data-reset-on-success") &&
        event.detail.successful) { form.reset(); }
  });
  // The signer's preview: which document it shows (the link's data-document), and, once
  // the queue no longer lists that document, an empty preview instead of a stale one.
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[target=preview]");
    var frame = document.getElementById("preview");
    var item = link && link.closest("[data-document]");
    var note = document.getElementById("preview-note");
    if (frame && item) { frame.dataset.document = item.dataset.document; }
    if (link && note) { note.textContent = ""; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var frame = document.getElementById("preview");
    var shown = frame && frame.dataset.document;
    if (!shown) { return; }
    var still = document.querySelectorAll("#queue [data-document]");
    for (var i = 0; i < still.length; i += 1) {
      if (still[i].dataset.document === shown) { return; }
    }
    delete frame.dataset.document;
    frame.src = "about:blank";
    var note = document.getElementById("preview-note");
    if (note) { note.textContent = "Văn bản vừa xem đã rời hàng chờ (đã phê duyệt, trả lại hoặc thu hồi)."; }
  });
  // The browser's own validation bubbles speak the browser's language ("Please fill out
  // this field"): Kyso says what is missing in Vietnamese, in the form's alert region
  // (#<form id>-error, made after the form when it has none), and focuses the field.
  function labelOf(field) {
    var label = field.labels && field.labels[0];
    if (!label) { return field.getAttribute("aria-label") || field.name; }
    var copy = label.cloneNode(true);
    copy.querySelectorAll(".hint, input, select, textarea").forEach(function (n) { n.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function messageFor(field) {
    var name = "“" + labelOf(field) + "”";
    var v = field.validity;
    if (v.valueMissing) {
      if (field.type === "file") { return "Hãy chọn tệp ở ô " + name + "."; }
      if (field.type === "checkbox" || field.type === "radio") { return "Hãy đánh dấu " + name + "."; }
      if (field.tagName === "SELECT") { return "Hãy chọn " + name + "."; }
      return "Hãy điền " + name + ".";
    }
    if (field.dataset.message) { return name + ": " + field.dataset.message; }
    if (v.typeMismatch && field.type === "email") {
      return name + " chưa đúng dạng địa chỉ thư điện tử (ví dụ vanthu@xa.gov.vn).";
    }
    if (v.rangeUnderflow || v.rangeOverflow) {
      return name + " phải nằm trong khoảng " + (field.min || "…") + " đến " + (field.max || "…") + ".";
    }
    if (v.badInput) { return name + " phải là một số."; }
    if (v.tooLong) { return name + " dài quá " + field.maxLength + " ký tự."; }
    if (v.tooShort) { return name + " cần ít nhất " + field.minLength + " ký tự."; }
    return name + " chưa đúng định dạng.";
  }
  function regionOf(form) {
    var id = (form.id || "form") + "-error";
    var region = form.id && document.getElementById(id);
    if (!region) {
      region = document.createElement("div");
      region.className = "field-error";
      region.setAttribute("role", "alert");
      if (form.id) { region.id = id; }
      form.insertAdjacentElement("afterend", region);
    }
    return region;
  }
  var checking = null;
  document.addEventListener("invalid", function (event) {
    var field = event.target;
    var form = field && field.form;
    if (!form) { return; }
    event.preventDefault();
    var region = regionOf(form);
    if (checking !== form) {  // the first invalid field of this try: a fresh list, focused
      checking = form;
      region.textContent = "";
      setTimeout(function () { checking = null; }, 0);
      field.focus();
    }
    var line = document.createElement("p");
    line.className = "alert alert-error";
    line.textContent = messageFor(field);
    region.appendChild(line);
    field.setAttribute("aria-invalid", "true");
  }, true);
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field && field.removeAttribute) { field.removeAttribute("aria-invalid"); }
  });
  // File inputs: the browser draws its own button and "no file chosen" in its language
  // ("Choose Files"); Kyso draws a Vietnamese face just before the input, which lies
  // transparent over it (clicks and dropped files still reach the input itself).
  function dress(input) {
    if (input.dataset.dressed) { return; }
    input.dataset.dressed = "yes";
    var face = document.createElement("span");
    face.className = "file-face" + (input.classList.contains("drop") ? " drop" : "");
    face.setAttribute("aria-hidden", "true");
    var button = document.createElement("span");
    button.className = "file-button";
    button.textContent = input.multiple ? "Chọn các tệp" : "Chọn tệp";
    var chosen = document.createElement("span");
    chosen.className = "file-chosen";
    face.appendChild(button);
    face.appendChild(chosen);
    input.insertAdjacentElement("beforebegin", face);
    function show() {
      var files = input.files || [];
      var names = Array.prototype.map.call(files, function (f) { return f.name; });
      chosen.textContent = names.length === 0 ? "Chưa chọn tệp nào" :
        (names.length === 1 ? names[0] : names.length + " tệp: " + names.join(", "));
    }
    input.addEventListener("change", show);
    if (input.form) { input.form.addEventListener("reset", function () { setTimeout(show, 0); }); }
    show();
    input.classList.add("dressed");
  }
  function dressAll(root) {
    if (root && root.querySelectorAll) { root.querySelectorAll("input[type=file]").forEach(dress); }
  }
  document.addEventListener("DOMContentLoaded", function () { dressAll(document); });
  document.addEventListener("htmx:load", function (event) { dressAll(event.detail.elt); });
  // hx-confirm questions in a Vietnamese dialog ("Đồng ý" / "Hủy"), not the browser's
  // confirm() with its OK/Cancel in the browser's language; "Hủy" has the focus.
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question || typeof HTMLDialogElement === "undefined") { return; }
    event.preventDefault();
    var dialog = document.getElementById("kyso-confirm");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "kyso-confirm";
      dialog.className = "confirm";
      dialog.setAttribute("aria-labelledby", "kyso-confirm-text");
      dialog.innerHTML = '<p id="kyso-confirm-text"></p><div class="actions">' +
        '<button type="button" class="danger" data-answer="yes">Đồng ý</button>' +
        '<button type="button" data-answer="no">Hủy</button></div>';
      document.body.appendChild(dialog);
    }
    dialog.querySelector("#kyso-confirm-text").textContent = question;
    var yes = dialog.querySelector("[data-answer=yes]");
    var no = dialog.querySelector("[data-answer=no]");
    yes.onclick = function () { dialog.close(); event.detail.issueRequest(true); };
    no.onclick = function () { dialog.close(); };
    dialog.showModal();
    no.focus();
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
