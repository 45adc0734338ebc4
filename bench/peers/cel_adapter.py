"""CEL through the Rust binding `common-expression-language` (module `cel`).

bench/peers/cel_options.cel is one CEL expression returning the whole result;
it is compiled once (`cel.compile`) and executed with the facts dict as its
variables (`as_of`, `account`, `subscription`). Tables and messages are
literals in the expression; see the file's header for the idioms used.
"""

from __future__ import annotations

from typing import Any

import cel

from . import HERE


def load() -> Any:
    return cel.compile((HERE / "cel_options.cel").read_text("utf-8")).execute
