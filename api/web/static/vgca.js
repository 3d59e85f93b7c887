// The VGCA Sign Service (the Government Cipher Committee's signing service on the
// official's PC, wss://127.0.0.1:8987): detected by opening its SignApproved method's
// socket; when it answers, the "Ký bằng VGCA Sign Service" buttons are shown. A click asks
// Kyso for the call (POST /api/v1/documents/{id}/vgca: the method's address and its
// message with single-use file and upload addresses), sends that message to the service,
// and shows its answer; Kyso checks the uploaded file itself (api/http/routes/vgca.py).
(function () {
  "use strict";
  var SERVICE = (document.body && document.body.dataset.vgcaService) ||
    "wss://127.0.0.1:8987";

  function csrf() {
    var field = document.querySelector('input[name="csrf"]');
    return field ? field.value : "";
  }

  function say(id, text) {
    var line = document.getElementById("vgca-" + id + "-status");
    if (line) { line.textContent = text; }
  }

  function detect() {
    var boxes = document.querySelectorAll("[data-vgca-document]");
    if (!boxes.length || !("WebSocket" in window)) { return; }
    var socket;
    try { socket = new WebSocket(SERVICE + "/SignApproved"); } catch (e) { return; }
    var timer = setTimeout(function () { socket.close(); }, 3000);
    socket.onopen = function () {
      clearTimeout(timer);
      socket.close();
      boxes.forEach(function (box) { box.hidden = false; });
    };
    socket.onerror = function () { clearTimeout(timer); };
  }

  function sign(id) {
    say(id, "Đang chuẩn bị…");
    fetch("/api/v1/documents/" + encodeURIComponent(id) + "/vgca", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.error ? body.error.vi : "HTTP " + answer.status); }
        return body;
      });
    }).then(function (call) {
      say(id, "VGCA Sign Service đang ký: chọn chứng thư và nhập mã PIN trong cửa sổ của dịch vụ.");
      var socket = new WebSocket(call.service);
      socket.onopen = function () { socket.send(JSON.stringify(call.request)); };
      socket.onmessage = function (event) {
        socket.close();
        var reply = {};
        try { reply = JSON.parse(event.data); } catch (e) { reply = { Status: -1 }; }
        var kyso = {};
        try { kyso = JSON.parse(reply.FileServer || reply.Message || "{}"); } catch (e) { kyso = {}; }
        if (reply.Status === 0 && kyso.accepted) {
          say(id, kyso.vi || "Đã ký.");
          document.body.dispatchEvent(new Event("queue-changed"));
        } else {
          var why = (kyso.error && kyso.error.vi) || reply.Message || "không rõ lý do";
          say(id, "Không ký được: " + why);
        }
      };
      socket.onerror = function () { say(id, "Không kết nối được VGCA Sign Service."); };
    }).catch(function (error) { say(id, "Không ký được: " + error.message); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-vgca-sign]") : null;
    if (button) { sign(button.dataset.vgcaSign); }
  });
  document.addEventListener("htmx:afterSettle", detect);
  document.addEventListener("DOMContentLoaded", detect);
})();
