"""A long-running server process's garbage collector, set up once its start-up is done.

CPython's cyclic collector looks at young container objects after every 700 more of them are alive.
An API request leaves a few hundred behind in reference cycles (the framework's request, view and
response point at each other, and the response at its data) until a collection frees them, so an
OMB admin's card list paid for half a collection of the youngest objects, and a twentieth of the
middle generation, on every request; and about every 1,200 requests a full collection walked the
~160,000 objects that start-up made and that live as long as the process.

`settle()` freezes those (gc.freeze: full collections never look at them again) and lets the young
objects grow to YOUNG_THRESHOLD before a collection, so young garbage waits some tens of requests.
In-process, on the large data, the collector's time per card-list request fell from ~610-770 µs to
~390 µs (docs/performance.md, "The server process's garbage collector, one cursor a page, ...").
"""

from __future__ import annotations

import gc
from importlib import import_module

from django.conf import settings

YOUNG_THRESHOLD = 7000


def settle() -> None:
    """Import every view (the URLconf), then freeze_start_up(): for config.wsgi, once the app is loaded."""
    import_module(settings.ROOT_URLCONF)
    freeze_start_up()


def freeze_start_up() -> None:
    """Freeze every object alive now and raise the young generation's threshold to YOUNG_THRESHOLD.

    The benchmarks' raw baseline server calls this too: the two are served alike."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
