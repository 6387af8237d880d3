// The pages' small scripts: typeset maths, focus the result after a check, keep "My submissions" current.
document.addEventListener("DOMContentLoaded", function () {
  typesetMaths();
  focusResult();
  followGrading();
});

// Render the $…$ and $$…$$ formulas of elements marked .tex with the bundled KaTeX (MathML included).
function typesetMaths() {
  if (typeof renderMathInElement !== "function") return;
  document.querySelectorAll(".tex").forEach(function (element) {
    renderMathInElement(element, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
      trust: false,
    });
  });
}

// After answers are checked, the page opens on the score: focus goes to it, so a screen reader reads it first.
function focusResult() {
  var result = document.getElementById("result");
  if (result) result.focus();
}

// While a notebook is queued or being graded, fetch the page again every few seconds and replace the rows
// that changed, announcing each change in the polite live region #grading-status. No page reload: focus
// and reading position stay where the student left them.
function followGrading() {
  var status = document.getElementById("grading-status");
  if (!status || status.dataset.pending !== "1") return;
  var seconds = Number(status.dataset.interval || 3);
  var timer = window.setInterval(function () {
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!fresh.getElementById("grading-status")) throw new Error("not the submissions page (logged out?)");
        var news = updateRows(document.getElementById("submissions"), fresh.getElementById("submissions"));
        var freshStatus = fresh.getElementById("grading-status");
        var still = freshStatus.dataset.pending === "1";
        var summary = freshStatus.textContent.trim();
        if (news.length || !still) status.textContent = news.concat([summary]).join(" ");
        if (!still) {
          status.dataset.pending = "0";
          window.clearInterval(timer);
        }
      })
      .catch(function () {
        status.textContent = "Could not check for new results; reload the page to see them.";
        window.clearInterval(timer);
      });
  }, seconds * 1000);
}

// Replace the rows of table `current` whose status differs in `fresh` (matched by data-id); add new rows.
// Returns one sentence per row that changed, e.g. "lec4.ipynb: done, 12 / 12.".
function updateRows(current, fresh) {
  var news = [];
  if (!current || !fresh) return news;
  var body = current.tBodies[0];
  Array.prototype.forEach.call(fresh.tBodies[0].rows, function (row, index) {
    var old = body.querySelector('tr[data-id="' + row.dataset.id + '"]');
    if (old && old.dataset.status === row.dataset.status) return;
    var copy = document.importNode(row, true);
    if (old) {
      body.replaceChild(copy, old);
      news.push(row.dataset.label + ": " + row.dataset.summary);
    } else {
      body.insertBefore(copy, body.rows[index] || null);
    }
  });
  return news;
}
