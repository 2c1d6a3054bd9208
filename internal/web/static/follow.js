// fbs: a build's log follows its tail while the reader is at the bottom;
// scrolling up stops following, scrolling back down resumes it.
(function () {
  function atBottom(log) { return log.scrollTop + log.clientHeight >= log.scrollHeight - 40; }
  document.addEventListener("htmx:sseBeforeMessage", function (e) { e.target.fbsFollow = atBottom(e.target); });
  document.addEventListener("htmx:sseMessage", function (e) {
    if (e.target.fbsFollow) { e.target.scrollTop = e.target.scrollHeight; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("log");
    if (log) { log.scrollTop = log.scrollHeight; }
  });
})();
