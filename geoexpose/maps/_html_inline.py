"""The HTML of a map page: popups, legend, and every script and style inline.

folium renders ``<script src>`` and ``<link href>`` tags that point at CDNs.
:func:`inline_assets` rewrites each of them: Leaflet's JS and CSS come from the
files installed by the PyPI package ``django-js-lib-leaflet``, folium's own small
plugins from the folium wheel, and the libraries folium always lists but a map may
not use (jQuery, Bootstrap, Font Awesome, glyphicons, awesome-markers) are left out
when the page's scripts do not call them. Any other URL raises: nothing may leave
the page. The other helpers add geoexpose's own map runtime (``_map_runtime.js``, written for
this project) and the page's CSS and legend box; :mod:`geoexpose.maps._html_text`
writes the text that goes into them.
"""

from __future__ import annotations

import base64
import functools
import html
import html.parser
import importlib.resources
import logging
import re
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import Any

from geoexpose.errors import UsageError

__all__ = [
    "assert_self_contained",
    "decor_element",
    "feature_group",
    "inline_assets",
    "leaflet_files",
    "page_part",
    "runtime_element",
]

logger = logging.getLogger(__name__)

_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_JS = re.compile(r"/leaflet@[\d.]+/dist/leaflet\.js$")
_LEAFLET_CSS = re.compile(r"/leaflet@[\d.]+/dist/leaflet\.css$")
_FOLIUM_TEMPLATE = re.compile(r"/python-visualization/folium[^/]*/folium/templates/([\w.\-]+)$")
# Assets folium lists by default, which a map without folium.Icon does not need.
_DROPPABLE = re.compile(
    r"jquery-[\d.]+(\.min)?\.js$|/bootstrap@[\d.]+/|/bootstrap/3\.\d\.\d/|fontawesome-free@"
    r"|leaflet\.awesome-markers\.(js|css)$|leaflet\.awesome\.rotate(\.min)?\.css$"
)
_TAG = re.compile(
    r"<script\s+src=\"(?P<js>[^\"]+)\"\s*>\s*</script>"
    r"|<link\s+rel=\"stylesheet\"\s+href=\"(?P<css>[^\"]+)\"\s*/?>",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:|//)", re.IGNORECASE)
_SAFE_SCHEMES = re.compile(r"^\s*(?:data:|#)", re.IGNORECASE)
_RELATIVE = re.compile(
    r"^(?![a-z][a-z0-9+.\-]*:|[/\\])[\w.\-/]+\.html(?:#[\w%.\-=]*)?$", re.IGNORECASE
)
_SOURCE_MAP = re.compile(r"^[ \t]*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_JQUERY_CALL = re.compile(r"(?<![\w$.])(?:\$|jQuery)\s*\(")
_DECOR_CSS = """<style>
.gx-legend, .gx-note {position: absolute; z-index: 1000; background: rgba(255,255,255,.92);
  font: 12px/1.4 sans-serif; padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.35);}
.gx-legend {right: 10px; bottom: 24px; width: 196px; max-height: max(120px, calc(100% - 290px));
  overflow: auto;}
.gx-legend summary {cursor: pointer; font-weight: bold;}
.gx-legend b {display: block; margin-top: 4px;}
.gx-legend i {display: inline-block; width: 14px; height: 10px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #555;}
.gx-label {background: rgba(255,255,255,.85); border: 1px solid #444; border-radius: 3px;
  padding: 0 4px; font: bold 11px/1.4 sans-serif; color: #111; box-shadow: none;}
.gx-label::before {display: none;}
.gx-time {background: rgba(255,255,255,.94); padding: 4px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.35); font: 12px/1.4 sans-serif; display: flex;
  align-items: center; gap: 6px;}
.gx-time .gx-slider {width: 300px;}
.gx-time .gx-utc {font-variant-numeric: tabular-nums; min-width: 170px;}
.gx-time button {min-width: 32px;}
.gx-note {left: 50%; top: 10px; transform: translateX(-50%); color: #7a1f00;}
.gx-popup th, .gx-panel th {text-align: left; padding-right: 8px; font-weight: normal;
  color: #555;}
.gx-popup td, .gx-panel td {overflow-wrap: anywhere;}
.gx-thumb {display: block; margin-top: 6px; max-width: 200px; max-height: 200px;}
.gx-muted {color: #777; margin-top: 4px;}
.gx-link {display: block; margin-top: 6px;}
.gx-panel {position: absolute; z-index: 1000; left: 54px; top: 10px; max-width: 560px;
  max-height: calc(100% - 150px); overflow: auto; background: rgba(255,255,255,.94);
  font: 11px/1.3 sans-serif; padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.35);}
.gx-panel h1 {font-size: 14px; margin: 0 0 4px 0;}
.gx-panel h2 {font-size: 12px; margin: 6px 0 2px 0;}
.gx-panel table.gx-wide td, .gx-panel table.gx-wide th {padding-right: 6px;
  white-space: nowrap; overflow-wrap: normal; vertical-align: bottom;}
.gx-panel table.gx-wide th {white-space: normal;}
</style>"""


def leaflet_files() -> Traversable:
    """Folder of Leaflet's ``leaflet.js``, ``leaflet.css`` and ``images/``.

    Raises
    ------
    ImportError
        When ``django-js-lib-leaflet`` is not installed, naming the pip command.
    """
    try:
        root = importlib.resources.files(_LEAFLET_PACKAGE)
    except ModuleNotFoundError as exc:
        raise ImportError(
            "maps need Leaflet from the package django-js-lib-leaflet: "
            "pip install django-js-lib-leaflet"
        ) from exc
    return root / "static" / _LEAFLET_PACKAGE


def _folium_templates() -> Traversable:
    return importlib.resources.files("folium") / "templates"


def _script(code: str, origin: str) -> str:
    if "</script" in code.lower():
        raise UsageError(f"cannot inline {origin}: it contains '</script'")
    return "<script>\n" + _SOURCE_MAP.sub("", code) + "\n</script>"


def _style(css: str, folder: Traversable, origin: str) -> str:
    def data_uri(match: re.Match[str]) -> str:
        ref = match.group(1)
        if _SAFE_SCHEMES.match(ref):
            return match.group(0)
        if _EXTERNAL.match(ref):
            raise UsageError(f"cannot inline {origin}: it loads {ref!r}")
        target = folder.joinpath(*ref.split("/"))
        if not target.is_file() or not ref.lower().endswith(".png"):
            raise UsageError(f"cannot inline {origin}: {ref!r} is not a PNG beside it")
        encoded = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    if "</style" in css.lower():
        raise UsageError(f"cannot inline {origin}: it contains '</style'")
    inlined = _CSS_URL.sub(data_uri, _SOURCE_MAP.sub("", css))
    inlined = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", inlined)
    return "<style>\n" + inlined + "\n</style>"


@functools.cache
def _inlined(package: str, name: str, *, script: bool | None = None) -> str:
    """Make the inline ``<script>`` or ``<style>`` of one asset file, once per process.

    ``package`` is ``"leaflet"`` (Leaflet's files) or ``"folium"`` (folium's
    templates); a ``.js`` file becomes a script unless ``script`` says otherwise.
    """
    folder = leaflet_files() if package == "leaflet" else _folium_templates()
    text = (folder / name).read_text("utf-8")
    if script if script is not None else name.endswith(".js"):
        return _script(text, name)
    return _style(text, folder, name)


def _calls_jquery(text: str) -> bool:
    """Whether the text calls ``$(...)`` or ``jQuery(...)``: a regex at each ``$`` only.

    Searching a page of several megabytes with the look-behind pattern alone is slow.
    """
    for literal in ("$", "jQuery"):
        at = text.find(literal)
        while at >= 0:
            if _JQUERY_CALL.match(text, at):
                return True
            at = text.find(literal, at + 1)
    return False


def _check_droppable(page: str) -> None:
    """Refuse to drop the default libraries when the page's own code calls them."""
    if "AwesomeMarkers" in page:
        raise UsageError(
            "this map uses folium.Icon (awesome-markers), which cannot be made "
            "self-contained; use folium.CircleMarker instead"
        )
    if _calls_jquery(page):
        raise UsageError(
            "this map's scripts call jQuery (folium.Popup does), which geoexpose "
            "does not inline; use tooltips, or geoexpose.explore's own popups"
        )


def inline_assets(page: str) -> str:
    """Replace every external script and stylesheet of a rendered page by inline code.

    Parameters
    ----------
    page
        The HTML that ``folium.Map.get_root().render()`` returns.

    Returns
    -------
    str
        The same page with Leaflet and folium's own plugins inline and the unused
        default libraries removed; it passes :func:`assert_self_contained`.

    Raises
    ------
    UsageError
        For a script or stylesheet URL this module does not know, or when the page
        needs a library that cannot be inlined (jQuery, awesome-markers).
    """
    checked = False

    def replace(match: re.Match[str]) -> str:
        nonlocal checked
        url = match.group("js") or match.group("css")
        if _LEAFLET_JS.search(url):
            return _inlined("leaflet", "leaflet.js")
        if _LEAFLET_CSS.search(url):
            return _inlined("leaflet", "leaflet.css")
        found = _FOLIUM_TEMPLATE.search(url)
        if found and (_folium_templates() / found.group(1)).is_file():
            return _inlined("folium", found.group(1), script=bool(match.group("js")))
        if _DROPPABLE.search(url):
            if not checked:
                _check_droppable(_TAG.sub("", page))
                checked = True
            logger.debug("left out unused asset %s", url)
            return ""
        raise UsageError(f"map asset {url!r} cannot be inlined; a map may load nothing")

    out = _TAG.sub(replace, page)
    assert_self_contained(out)
    return out


class _Refs(html.parser.HTMLParser):
    """Collect the src and href attributes and the text of style elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data") and value is not None:
                self.refs.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def assert_self_contained(page: str) -> None:
    """Raise when a page would load anything: a script, stylesheet or URL outside it.

    Every ``src``/``href`` must be a data URI or an in-page anchor, and CSS may not
    ``url()`` or ``@import`` anything but data URIs. A link (``<a href>``) may also
    name another file of the same output folder by a relative path: the browser
    follows it only when the reader clicks it.

    Raises
    ------
    UsageError
        Naming the first offending tag and URL.
    """
    parser = _Refs()
    parser.feed(page)
    parser.close()
    for tag, name, value in parser.refs:
        if tag == "a" and name == "href" and _RELATIVE.match(value):
            continue
        if not _SAFE_SCHEMES.match(value):
            raise UsageError(f"map would load <{tag} {name}={value!r}>; a map may load nothing")
    for css in parser.styles:
        if "@import" in css:
            raise UsageError("map stylesheet uses @import; a map may load nothing")
        for ref in _CSS_URL.findall(css):
            if not _SAFE_SCHEMES.match(ref):
                raise UsageError(f"map stylesheet loads url({ref!r}); a map may load nothing")


def decor_element(body: str) -> Any:
    """Page CSS, the legend ``body`` and an attribution without a link, for a map."""
    return page_part(
        "GeoexposeDecor",
        header=_DECOR_CSS,
        html=body,
        script=lambda el: f'{el._parent.get_name()}.attributionControl.setPrefix("Leaflet");',
    )


def page_part(
    name: str,
    *,
    header: str | None = None,
    html: str | None = None,
    script: str | Callable[[Any], str] | None = None,
) -> Any:
    """Make an element that puts text into a page's header, body and script as it is.

    folium's elements pass what they render through Jinja once more, so text that
    holds ``{{`` or ``{%`` (a site's name, say) would run as a template; this
    element's text never does. ``script`` may be a function of the element, called
    when the page is rendered (to name the element's parent).
    """
    from branca.element import Element, MacroElement

    class Raw(Element):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def render(self, **kwargs: Any) -> str:
            return self.text

    class Part(MacroElement):
        def render(self, **kwargs: Any) -> str:
            figure = self.get_root()
            code = script(self) if callable(script) else script
            for where, text in (("header", header), ("html", html), ("script", code)):
                if text:
                    getattr(figure, where).add_child(Raw(text), name=self.get_name())
            for child in self._children.values():
                child.render(**kwargs)
            return ""

    element = Part()
    element._name = name
    return element


@functools.cache
def _group_class() -> type:
    """Make the class of :func:`feature_group`, once (folium is imported only here)."""
    import folium
    from branca.element import Element

    class Raw(Element):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def render(self, **kwargs: Any) -> str:
            return self.text

    class Group(folium.FeatureGroup):
        """A FeatureGroup whose script is written directly, not through Jinja twice."""

        def render(self, **kwargs: Any) -> str:
            name, script = self.get_name(), getattr(self.get_root(), "script")  # noqa: B009
            script.add_child(Raw(f"var {name} = L.featureGroup({{}});"), name=name)
            for child in self._children.values():  # the layer is filled, then shown
                child.render(**kwargs)
            if self.show and self._parent is not None:
                shown = Raw(f"{name}.addTo({self._parent.get_name()});")
                script.add_child(shown, name=f"{name}_add")
            return ""

    return Group


def feature_group(name: str, *, show: bool = True) -> Any:
    """Make a folium ``FeatureGroup`` (one entry of the layer control) that renders quickly.

    folium renders each of its elements through a Jinja template and compiles the
    result as a template once more; this group writes the same two statements
    (``L.featureGroup({})`` and, when shown, ``addTo`` its map) as plain text.
    ``name`` goes to the layer control, which still renders it through Jinja (see
    :func:`geoexpose.maps._canvas.layer_name`).
    """
    return _group_class()(name=name, show=show)


@functools.cache
def _runtime_code() -> str:
    code = (importlib.resources.files("geoexpose.maps") / "_map_runtime.js").read_text("utf-8")
    if "</script" in code.lower():
        raise UsageError("cannot inline _map_runtime.js: it contains '</script'")
    return code


def runtime_element() -> Any:
    """Make the element of the map runtime (``_map_runtime.js``); add it first."""
    return page_part("GeoexposeRuntime", script=_runtime_code())
