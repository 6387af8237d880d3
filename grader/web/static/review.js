// The review page (templates/review_part.html): Enter saves, n/j and p/k move between waiting parts.
// Single-key shortcuts act only when no field has the focus, and the page's checkbox turns them off
// (WCAG 2.1.4); the choice is kept in this browser.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var toggle = document.getElementById("single-key-shortcuts");
  var KEY = "grader.review.shortcuts";
  try {
    if (toggle && window.localStorage.getItem(KEY) === "off") toggle.checked = false;
  } catch (e) { /* storage refused: shortcuts stay on */ }
  if (toggle) {
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(KEY, toggle.checked ? "on" : "off"); } catch (e) { /* not kept */ }
    });
  }
  var comment = document.getElementById("comment");
  if (comment) {
    comment.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }
  var score = document.getElementById("score");
  if (score && !score.value) score.focus();
  // Escape leaves a field, so that the single-key shortcuts work again.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.activeElement && document.activeElement.blur) document.activeElement.blur();
  });
  document.addEventListener("keydown", function (event) {
    if (!toggle || !toggle.checked || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var id = { n: "next-part", j: "next-part", p: "previous-part", k: "previous-part" }[event.key];
    var link = id && document.getElementById(id);
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
})();
