"""Follow the tracks of a KML document as it is parsed, giving their texts to a stream.

:mod:`geoexpose.tracks._kml_parse` parses a document in chunks; given a
:class:`TrackStream`, it hands each parse event to a :class:`Walker`, which takes the
events within a ``gx:Track`` (KML 2.3 ``Track``) of a Placemark: each ``<when>`` and
``<gx:coord>`` (``<coord>``) text goes to the stream as its element ends, the
``altitudeMode`` is noted, and after each chunk the elements read are let go, so a
track of millions of points is never held as a tree. The tracks are counted and
checked as the whole reading does (:func:`check_counts`).
"""

from __future__ import annotations

from typing import NamedTuple
from xml.etree import ElementTree as ET

import numpy as np

from geoexpose.errors import InputError

__all__ = ["GX_NS", "NotInOrder", "TrackStream", "Walker", "check_counts"]

#: Google's KML extension namespace (``gx:Track``, ``gx:coord``).
GX_NS = "http://www.google.com/kml/ext/2.2"


def check_counts(number: int, whens: int, coords: int) -> None:
    """Raise where a track with times has not one ``<coord>`` a ``<when>``.

    ``number``: the track's place among the document's tracks and lines, from 0.

    >>> check_counts(1, 3, 2)
    Traceback (most recent call last):
    ...
    geoexpose.errors.InputError: track 2: 3 <when> for 2 <coord>
    """
    if whens and whens != coords:
        raise InputError(f"track {number + 1}: {whens} <when> for {coords} <coord>")


class NotInOrder(Exception):
    """The tracks of the document cannot be streamed in the order of the whole reading.

    The whole reading takes a Placemark's ``gx:Track`` before its ``Track`` and a
    track's ``gx:coord`` before its ``coord``; where a document mixes them otherwise,
    or nests tracks, a stream cannot keep that order and the file is read whole.
    """


class TrackStream:
    """Where a streamed parse gives the texts of the tracks as it reads them.

    The parse appends each ``<when>`` text to :attr:`whens` and each ``<gx:coord>``
    (``<coord>``) text to :attr:`coords` as its element ends, in document order; calls
    :meth:`track` at the end of each track and :meth:`drained` after each chunk of
    the document (where a subclass takes the texts away).
    """

    def __init__(self) -> None:
        self.whens: list[str | None] = []
        self.coords: list[str | None] = []

    def track(self, number: int, whens: int, coords: int, mode: str) -> None:
        """Take the end of a track: its place among tracks and lines (from 0), counts, mode."""

    def drained(self) -> None:
        """Take the texts of a chunk of the document parsed."""


class _Tags(NamedTuple):
    """The tags of the track elements in a Placemark of one namespace."""

    track: str
    gx_track: str
    when: str
    coord: str
    gx_coord: str
    mode: str
    gx_mode: str


def _tags(kml: str) -> _Tags:
    p, gx = (f"{{{kml}}}" if kml else ""), f"{{{GX_NS}}}"
    return _Tags(
        f"{p}Track", f"{gx}Track", f"{p}when", f"{p}coord", f"{gx}coord",
        f"{p}altitudeMode", f"{gx}altitudeMode",
    )  # fmt: skip


class Walker:
    """Take the parse events within the tracks of Placemarks (see module notes).

    Parameters
    ----------
    stream
        Where the texts go.
    lines
        The lines found so far (the parse adds a Placemark's lines at its end), for
        the number of each track.
    """

    def __init__(self, stream: TrackStream, lines: list[np.ndarray]) -> None:
        self.stream, self.lines = stream, lines
        self.marks: list[tuple[_Tags, list[bool]]] = []  # open Placemarks: tags, a Track met
        self.open: list[ET.Element] = []  # the open track and its open descendants
        self.tracks = 0  # tracks streamed
        self.counts = [0, 0, 0]  # of the open track: <when>, <gx:coord>, <coord>
        self.modes: dict[str, str] = {}  # of the open track: the first altitudeMode of a tag

    def placemark(self, uri: str | None) -> None:
        """Note a Placemark that starts (its namespace) or ends (None)."""
        if uri is None:
            if self.marks:
                self.marks.pop()
        else:
            self.marks.append((_tags(uri), [False]))

    def step(self, event: str, elem: ET.Element) -> bool:
        """Take a parse event within a track of a Placemark (False: not one).

        Raises
        ------
        InputError
            A track whose ``<when>`` and ``<coord>`` counts differ.
        NotInOrder
            Tracks a stream cannot give in the order of the whole reading.
        """
        if not self.open:
            if event != "start" or not self.marks:
                return False
            tags, met = self.marks[-1]
            if elem.tag == tags.track:
                met[0] = True
            elif elem.tag != tags.gx_track:
                return False
            elif met[0]:
                raise NotInOrder("a gx:Track after a Track in a Placemark")
            self.open.append(elem)
            self.counts, self.modes = [0, 0, 0], {}
            return True
        tags = self.marks[-1][0]
        if event == "start":
            if elem.tag in (tags.track, tags.gx_track):
                raise NotInOrder("a track inside a track")
            self.open.append(elem)
            return True
        self.open.pop()
        tag = elem.tag
        if not self.open:
            self._end(elem, tags)
        elif tag == tags.when:
            self.stream.whens.append(elem.text)
            self.counts[0] += 1
        elif tag == tags.gx_coord:
            if self.counts[2]:
                raise NotInOrder("a gx:coord after a coord in a track")
            self.stream.coords.append(elem.text)
            self.counts[1] += 1
        elif tag == tags.coord:
            self.stream.coords.append(elem.text)
            self.counts[2] += 1
        elif len(self.open) == 1 and tag in (tags.mode, tags.gx_mode):
            self.modes.setdefault(tag, (elem.text or "").strip())
        return True

    def _end(self, track: ET.Element, tags: _Tags) -> None:
        number = len(self.lines) + self.tracks
        whens, coords = self.counts[0], self.counts[1] + self.counts[2]
        check_counts(number, whens, coords)
        mode = self.modes.get(tags.mode, self.modes.get(tags.gx_mode)) or "clampToGround"
        self.stream.track(number, whens, coords, mode)
        self.tracks += 1
        track.clear()

    def drained(self) -> None:
        """Let go of the elements of the open track read (every event before was taken)."""
        for depth, elem in enumerate(self.open):
            done = len(elem) - (depth + 1 < len(self.open))  # its last child may be open
            if done > 0:
                del elem[:done]
        self.stream.drained()
