"""``check()`` and ``submit()`` for students' notebooks: the source of the setup cell's one function.

:func:`grader.notebooks.generate.student_notebook` copies the function below
(from ``def _grader_tools`` to the end of this file) into the notebook's
setup cell, then calls it with the notebook's settings and ``globals()``. It
runs in the student's kernel, so it uses only the standard library (urllib,
json) and IPython's display, and imports nothing at all until a function is
called. It talks to the service's JSON API with the student's token
(``GRADER_TOKEN``, else asked once with ``getpass`` and kept in memory), at
``GRADER_URL`` or the address written at generation (``grader notebook
--server``). Every failure is one sentence, never a traceback.

When the grader itself runs the notebook (its sandbox, where no Jupyter kernel
is loaded and there is no network), both functions do nothing.
"""

# ruff: noqa: E731 - two one-line formatters


def _grader_tools(config, namespace):
    import json
    import os
    import sys
    import time

    memory = {"token": None}
    icons = {"correct": "✓", "partial": "~", "incorrect": "✗", "invalid": "?", "missing": "–", "needs_review": "…"}
    labels = {"needs_review": "waiting for a TA"}  # as the pages say it (grader.contract.status_label)
    colours = {"correct": "#1e8449", "partial": "#9a6700", "incorrect": "#c0392b", "invalid": "#c0392b"}

    class Problem(Exception):
        pass

    def active():  # a kernel a person runs (Jupyter, VS Code, Colab), not the grader's sandbox
        return "ipykernel" in sys.modules

    def server():
        return (os.environ.get("GRADER_URL") or config.get("url") or "").strip().rstrip("/")

    def offline(doing):
        return (
            f"No grading server is set, so {doing} cannot be done here (your answers stay in this notebook). "
            'Set the address your course gives you, e.g. import os; os.environ["GRADER_URL"] = "https://grader.example.edu" '
            "(and GRADER_TOKEN to your token, or you will be asked for it), then run this cell again."
        )

    def token():
        if os.environ.get("GRADER_TOKEN") or memory["token"]:
            return (os.environ.get("GRADER_TOKEN") or memory["token"]).strip()
        import getpass

        try:
            typed = getpass.getpass("Your grader token (kept in memory only, never in the notebook): ").strip()
        except Exception:
            raise Problem(
                "No token: set the environment variable GRADER_TOKEN to the token your TA gave you."
            ) from None
        memory["token"] = typed or None
        if not typed:
            raise Problem("No token was typed; run the cell again and paste the token your TA gave you.")
        return typed

    def call(method, path, body=None, content_type="application/json"):
        from urllib import error, request

        url = server()
        headers = {"Authorization": "Bearer " + token(), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            with request.urlopen(request.Request(url + path, body, headers, method=method), timeout=60) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except error.HTTPError as exc:
            try:
                detail = str(json.loads(exc.read().decode("utf-8")).get("detail") or exc.reason)
            except Exception:
                detail = str(exc.reason)
            detail = detail.rstrip(".")
            if exc.code == 401:
                memory["token"] = None
                raise Problem(f"The grader did not accept your token: {detail}; check GRADER_TOKEN.") from None
            if exc.code == 403:
                raise Problem(f"The grader refused this: {detail}.") from None
            raise Problem(f"The grader answered {exc.code}: {detail}.") from None
        except ValueError:
            raise Problem(f"The server at {url} did not answer as the grader does; check GRADER_URL.") from None
        except OSError as exc:
            reason = getattr(exc, "reason", None) or exc
            reason = getattr(reason, "strerror", None) or reason  # "Connection refused", not "[Errno 111] …"
            raise Problem(
                f"Could not reach the grader at {url} ({reason}); check GRADER_URL and your connection, "
                "and try again (your answers are safe in this notebook)."
            ) from None

    def show(html, text, handle=None):
        bundle = {"text/html": html, "text/plain": text}
        try:
            from IPython.display import display
        except ImportError:
            print(text)
            return None
        if handle is None:
            return display(bundle, raw=True, display_id=True)
        handle.update(bundle, raw=True)
        return handle

    def escape(value):
        import html

        return html.escape(str(value))

    number = lambda v: "" if v is None else (str(int(v)) if float(v).is_integer() else f"{float(v):g}")
    points = lambda d: f"{number(d.get('score'))} / {number(d.get('max_score'))}" if d.get("score") is not None else ""

    def render(result, problems=None, heading="", total=True):
        """The result as HTML and as text: per part its status, points, sentence, reading, first wrong step."""
        html, text = [f"<div><h4>{escape(heading)}</h4>"], [heading]
        if total:
            html.append(f"<p><strong>Score: {escape(points(result))}</strong></p>")
            text.append(f"Score: {points(result)}")
        if result.get("error"):
            html.append(f"<p>The notebook could not be run to the end: {escape(result['error'])}.</p>")
            text.append(f"The notebook could not be run to the end: {result['error']}.")
        for handin in result.get("handins") or []:
            if handin.get("message"):
                html.append(f"<p>{escape(handin['message'])}</p>")
                text.append(handin["message"])
        for exercise in result.get("exercises") or []:
            title = config["titles"].get(exercise.get("id"), exercise.get("id"))
            attempts = exercise.get("attempts") or {}
            if attempts.get("used") is not None:
                left = "" if attempts.get("left") is None else f", {attempts['left']} left"
                title += f" (attempt {attempts['used']}{left})"
            if exercise.get("withheld"):
                html.append(f"<p><strong>{escape(title)}</strong>: {escape(exercise['withheld'])}</p>")
                text.append(f"{title}: {exercise['withheld']}")
                continue
            html.append(f"<p><strong>{escape(title)}</strong>: {escape(points(exercise))}</p><ul>")
            text.append(f"{title}: {points(exercise)}")
            for part in exercise.get("parts") or []:
                status, lines, notes = part.get("status") or "", [part.get("feedback") or ""], []
                if part.get("id") in (problems or {}):
                    status, lines = "invalid", [problems[part["id"]] + "; it was not sent."]
                read = part.get("read") or {}
                if read.get("reason") or read.get("read_as"):
                    size = f" ({read['size']})" if read.get("size") else ""
                    notes.append(read.get("reason") or f"read as: {read['read_as']}{size}")
                if (part.get("details") or {}).get("first_wrong_step") is not None:
                    lines.append(f"First wrong step: {part['details']['first_wrong_step']}.")
                head = f"{icons.get(status, '')} {part.get('id')}  {points(part)}  {labels.get(status, status.replace('_', ' '))}"
                html.append(
                    f'<li><span style="color:{colours.get(status, "#55606b")};font-weight:600">{escape(head)}</span>'
                    + "".join(f"<br>{escape(line)}" for line in lines if line)
                    + "".join(f'<br><span style="color:#55606b">{escape(note)}</span>' for note in notes)
                    + "</li>"
                )
                text.extend([head] + [f"    {line}" for line in lines + notes if line])
            html.append("</ul>")
            plot = exercise.get("plot") or {}
            if str(plot.get("data_uri", "")).startswith("data:image/svg+xml"):
                html.append(f'<img src="{escape(plot["data_uri"])}" alt="{escape(plot.get("alt", ""))}" width="420">')
        for error in result.get("cell_errors") or []:
            line = f"Cell {error.get('cell')} raised {error.get('ename')}: {error.get('evalue')}"
            html.append(f"<p>{escape(line)}</p>")
            text.append(line)
        return "".join(html) + "</div>", "\n".join(text)

    def plain(value, depth=0):  # what the notebook grader reads: numbers, strings, lists, numpy arrays
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return repr(value)
        if value is None or isinstance(value, (bool, int, float, str)):  # noqa: UP038 - kernels older than 3.10
            return value
        if type(value).__module__.split(".")[0] == "numpy" and hasattr(value, "tolist"):
            return plain(value.tolist(), depth)
        if isinstance(value, (list, tuple)) and depth < 8:  # noqa: UP038
            return [plain(item, depth + 1) for item in value]
        raise TypeError(f"unsupported type {type(value).__name__}")

    def check(exercise):
        """Grade this exercise's answers as they are now and show the feedback (nothing is handed in)."""
        if not active():
            return
        parts = config["exercises"].get(exercise)
        if parts is None:
            print(f"This notebook has no exercise {exercise!r}; its exercises are {', '.join(config['exercises'])}.")
            return
        answers, problems = {}, {}
        for part in parts:
            name = f"{exercise}_{part}".replace("-", "_")
            if namespace.get(name) is not None:
                try:
                    answers[part] = plain(namespace[name])
                except (TypeError, RecursionError) as exc:
                    problems[part] = (
                        f"The value bound to {name} could not be read ({exc}); bind a number, a list or a string"
                    )
        if not answers and not problems:
            names = ", ".join(f"{exercise}_{part}".replace("-", "_") for part in parts)
            print(f"Nothing to check yet: give {names} your answers (replace None), run those cells, then this one.")
            return
        if not server():
            print(offline("checking"))
            return
        try:
            body = json.dumps({"answers": {exercise: answers}}).encode("utf-8")
            result = call("POST", "/api/grade?include=read,plot", body)
        except Problem as exc:
            print(exc)
            return
        title = config["titles"].get(exercise, exercise)
        show(*render(result, problems, f"Check of {title} (not handed in)", total=False))

    def submit(path=None, wait=600):
        """Hand in this notebook as last saved, follow its grading (queued → running → done), show the result."""
        if not active():
            return
        if not server():
            print(offline("handing in"))
            return
        found = path or namespace.get("__session__") or os.environ.get("JPY_SESSION_NAME")
        found = found or namespace.get("__vsc_ipynb_file__")
        if found and not os.path.isfile(found) and os.path.isfile(os.path.basename(str(found))):
            found = os.path.basename(str(found))  # a path relative to Jupyter's root; the kernel runs beside it
        if not found or not str(found).endswith(".ipynb") or not os.path.isfile(found):
            print(
                'Could not find this notebook\'s file: save it, then call submit("path/to/notebook.ipynb") with its '
                "path (in Colab, download it with File → Download → .ipynb and upload it on the grader's page)."
            )
            return
        name = os.path.basename(found)
        with open(found, "rb") as handle:
            data = handle.read()
        saved = time.strftime("%H:%M", time.localtime(os.path.getmtime(found)))
        boundary = "grader" + os.urandom(12).hex()
        quoted = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="assignment"\r\n\r\n{config["assignment"]}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="{quoted}"\r\n'
                "Content-Type: application/x-ipynb+json\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        note = f"{name} as saved at {saved} (save it first if you changed it since)"

        def said(status, page):
            link = f'<a href="{escape(page)}" target="_blank">its page on the grader</a>'
            return (
                f"<p>Handed in {escape(note)}: <strong>{escape(status)}</strong> (see {link}).</p>",
                f"Handed in {note}: {status}. Its page: {page}",
            )

        try:
            queued = call("POST", "/api/submissions", body, "multipart/form-data; boundary=" + boundary)
            page = f"{server()}/submissions/{queued['id']}"
            shown = show(*said("queued", page))
            status, now, ends = "queued", {}, time.monotonic() + wait
            while status in ("queued", "running"):
                if time.monotonic() > ends:
                    show(*said(f"still {status}; its page will show the result", page), shown)
                    return
                time.sleep(1)
                now = call("GET", f"/api/submissions/{queued['id']}?include=plot")
                if now.get("status") != status:
                    status = now.get("status")
                    show(*said(status, page), shown)
        except Problem as exc:
            print(exc)
            return
        if status == "failed":
            show(*said(f"failed: {now.get('error') or 'it could not be graded'}", page), shown)
            return
        html, text = render(now.get("result") or {}, heading=f"Result of {name}")
        done_html, done_text = said(status, page)
        show(done_html + html, done_text + "\n" + text, shown)

    return check, submit
