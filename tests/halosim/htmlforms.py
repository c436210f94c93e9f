"""A tiny HTML form reader, so tests can submit the web page's forms the way a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    form_id: str
    action: str
    method: str
    fields: list[dict[str, str | bool]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # input id -> label text

    def field(self, name: str) -> dict[str, str | bool]:
        matches = [f for f in self.fields if f["name"] == name]
        assert len(matches) == 1, f"{len(matches)} fields named {name!r} in form {self.form_id}"
        return matches[0]

    def browser_data(self, **changes: str | bool) -> dict[str, str]:
        """What a browser would post after the given edits (True/False ticks or unticks a checkbox)."""
        data: dict[str, str] = {}
        for f in self.fields:
            name = str(f["name"])
            value = changes.get(name, f["checked"] if f["type"] == "checkbox" else f["value"])
            if f["type"] == "checkbox":
                if value:
                    data[name] = str(f["value"])
            else:
                data[name] = str(value)
        return data


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self.labels: dict[str, str] = {}
        self._form: Form | None = None
        self._select: dict | None = None
        self._text_target: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("id", ""), a.get("action", ""), a.get("method", "get").lower())
            self.forms[self._form.form_id] = self._form
        elif tag == "input" and self._form is not None and "name" in a:
            kind = a.get("type", "text")
            self._form.fields.append(
                {
                    "name": a["name"],
                    "type": kind,
                    "value": a.get("value", "on" if kind == "checkbox" else ""),
                    "checked": "checked" in a,
                    "id": a.get("id", ""),
                }
            )
        elif tag == "select" and self._form is not None:
            self._select = {"name": a["name"], "type": "select", "value": "", "checked": False, "id": a.get("id", "")}
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            # A browser posts the selected option, or the first one when none is marked.
            if "selected" in a or not self._select.get("seen"):
                self._select["value"] = a.get("value", "")
            self._select["seen"] = True
        elif tag in ("button", "label"):
            self._text_target, self._text = (tag, a.get("for", "")), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif self._text_target and tag == self._text_target[0]:
            text = "".join(self._text).strip()
            if tag == "button" and self._form is not None:
                self._form.buttons.append(text)
            elif tag == "label":
                self.labels[self._text_target[1]] = text
            self._text_target = None

    def handle_data(self, data: str) -> None:
        if self._text_target:
            self._text.append(data)


def read_forms(page: str) -> dict[str, Form]:
    """Return the page's forms by id, each knowing the label text of its inputs."""
    reader = _Reader()
    reader.feed(page)
    for form in reader.forms.values():
        form.labels = {str(f["id"]): reader.labels.get(str(f["id"]), "") for f in form.fields if f["id"]}
    return reader.forms
