// The pages' small scripts: typeset maths, focus the result after a check, keep "My submissions" and a
// submission's page current, show how each answer is read while it is typed.
document.addEventListener("DOMContentLoaded", function () {
  typesetMaths();
  focusResult();
  followGrading();
  followSubmission();
  readAsYouType();
});

// Render the $…$ and $$…$$ formulas of elements marked .tex with the bundled KaTeX (MathML included).
function typesetMaths(root) {
  if (typeof renderMathInElement !== "function") return;
  (root || document).querySelectorAll(".tex").forEach(function (element) {
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

// A submission's page while it is queued or graded: poll its status (JSON) every few seconds; say in the
// polite live region #submission-status when it starts and ends; once graded, fetch the page and replace only
// #submission-result, so the reader's place and focus stay where they were.
function followSubmission() {
  var status = document.getElementById("submission-status");
  if (!status || status.dataset.pending !== "1") return;
  var seconds = Number(status.dataset.interval || 2);
  var said = status.dataset.status;
  var timer = window.setInterval(function () {
    fetch(status.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (now) {
        if (now.status === said) return;
        said = now.status;
        status.dataset.status = now.status;
        if (now.status === "running") {
          status.textContent = "Being graded now (attempt " + now.attempts + "). This page updates itself.";
          return;
        }
        if (now.status === "queued") return;
        window.clearInterval(timer);
        status.dataset.pending = "0";
        return fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            return response.text();
          })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html");
            var freshResult = fresh.getElementById("submission-result");
            var freshStatus = fresh.getElementById("submission-status");
            if (!freshResult || !freshStatus) throw new Error("not the submission's page (logged out?)");
            var result = document.getElementById("submission-result");
            result.replaceChildren.apply(result, Array.prototype.map.call(freshResult.childNodes, function (node) {
              return document.importNode(node, true);
            }));
            typesetMaths(result);
            status.textContent = freshStatus.textContent.trim();
          });
      })
      .catch(function () {
        window.clearInterval(timer);
        status.textContent = "Could not check for the result; reload the page to see it.";
      });
  }, seconds * 1000);
}

// While a student types an answer, show under the field how the grader reads it ("read as: 4, 2, 1, ½ (4
// numbers)", typeset by KaTeX) or why it cannot be read yet: the field's text is sent to the page's read URL
// (same site, with the form's CSRF token) half a second after the last key. Nothing is graded or stored.
function readAsYouType() {
  var form = document.getElementById("answers");
  if (!form || !form.dataset.readUrl || !window.fetch) return;
  var token = form.querySelector('input[name="csrf_token"]');
  var pausedUntil = 0;
  form.querySelectorAll("[data-read]").forEach(function (field) {
    var line = document.getElementById(field.dataset.read);
    if (!line) return;
    var timer = null;
    var asked = 0;
    var last = null;
    function ask() {
      var text = field.value;
      if (text === last) return;
      last = text;
      if (!text.trim()) {
        showReading(line, null);
        return;
      }
      if (Date.now() < pausedUntil) return;
      var mine = ++asked;
      var student = document.getElementById("student");
      var body = { part: field.dataset.part, text: text };
      if (student) body.student = student.value;
      fetch(form.dataset.readUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
        body: JSON.stringify(body),
      })
        .then(function (response) {
          if (response.status === 429) {
            pausedUntil = Date.now() + 1000 * Number(response.headers.get("Retry-After") || 5);
            last = null;
          }
          return response.json().then(function (answer) {
            return { ok: response.ok, answer: answer };
          });
        })
        .then(function (reply) {
          if (mine !== asked) return; // a later keystroke asked again: show only the newest reading
          showReading(line, reply.ok ? reply.answer : { reason: reply.answer.detail ? sentence(reply.answer.detail) : "" });
        })
        .catch(function () {
          if (mine === asked) showReading(line, null);
        });
    }
    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 500);
    });
  });
}

function sentence(text) {
  text = String(text).trim();
  if (!text) return text;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(text) ? text : text + ".";
}

// Fill a part's "read as" line from the endpoint's answer ({read_as, latex, size, notes, reason}); hide it if empty.
function showReading(line, reading) {
  line.replaceChildren();
  delete line.dataset.state;
  if (reading && reading.reason) {
    line.textContent = reading.reason;
    line.dataset.state = "unreadable";
  } else if (reading && reading.read_as) {
    line.appendChild(document.createTextNode("read as: "));
    var maths = document.createElement("span");
    maths.className = "read-as-value";
    if (reading.latex && typeof katex === "object") {
      try {
        katex.render(reading.latex, maths, { throwOnError: false, output: "htmlAndMathml", trust: false });
      } catch (error) {
        maths.textContent = reading.read_as;
      }
    } else {
      maths.textContent = reading.read_as;
    }
    line.appendChild(maths);
    if (reading.size) line.appendChild(document.createTextNode(" (" + reading.size + ")"));
    (reading.notes || []).forEach(function (note) {
      line.appendChild(document.createTextNode(" " + note));
    });
    line.dataset.state = "read";
  }
  line.hidden = !line.textContent;
}
