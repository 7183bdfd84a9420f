"""What a browser would post for a rendered form: used by the benchmark and the tests to save a
page as it was shown, untouched fields included."""

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    def __init__(self, marker: str | None):
        super().__init__()
        self.marker = marker
        self.inside = marker is None
        self.data: dict[str, str | list[str]] = {}
        self.ticked: set[str] = set()
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.marker in attrs:
            self.inside = True
        if not self.inside:
            return
        kind = attrs.get("type")
        if tag == "input" and attrs.get("name") and kind not in ("checkbox", "radio", "submit"):
            self.data[attrs["name"]] = attrs.get("value") or ""
        elif tag == "input" and kind == "checkbox" and "checked" in attrs:
            name, value = attrs["name"], attrs.get("value") or "on"
            if name in self.ticked:  # a list of checkboxes posts every ticked value
                previous = self.data[name]
                self.data[name] = (
                    [*previous, value]
                    if isinstance(previous, list)
                    else [
                        previous,
                        value,
                    ]
                )
            else:
                self.data[name] = value
                self.ticked.add(name)
        elif tag == "input" and kind == "radio" and "checked" in attrs:
            self.data[attrs["name"]] = attrs.get("value") or "on"
        elif tag == "select":
            self.select = attrs.get("name")
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.marker:
            self.inside = False
        if tag == "select":
            self.select = None


def form_data(html: str, marker: str | None = None) -> dict[str, str | list[str]]:
    """Name/value pairs of the form carrying the `marker` attribute (of every field if None).

    Ticked checkboxes sharing a name give a list of their values, as a browser posts them all."""
    parser = _FormFields(marker)
    parser.feed(html)
    return parser.data
