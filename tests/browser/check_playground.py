"""The playground page in a real browser (headless Chromium over the DevTools protocol).

Not part of `make test` (CI machines have no browser); run it by hand after
changing `src/server/static/playground.html`:

    apt-get install chromium            # once
    .venv/bin/ruleengine serve --rules rules --port 8766 &
    .venv/bin/python tests/browser/check_playground.py http://127.0.0.1:8766

It loads the page, checks the selects and the input skeleton, decides a
regression-suite example, compares two versions' answers, decides a
checkout (result, metadata, one explanation row per rule), sends a broken
input (every problem listed, with its path), and switches rule set. Exit 1 on
the first failed check.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

import websockets

FACTS = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "platinum",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 3, "unit_price": "16.78"}]},
}


async def drive(ws_url: str, page: str) -> None:
    async with websockets.connect(ws_url, max_size=None) as ws:
        counter = 0

        async def call(method: str, **params: Any) -> dict[str, Any]:
            nonlocal counter
            counter += 1
            await ws.send(json.dumps({"id": counter, "method": method, "params": params}))
            while True:
                message = json.loads(await ws.recv())
                if message.get("id") == counter:
                    return message

        async def js(expression: str) -> Any:
            answer = await call(
                "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
            )
            return answer["result"]["result"].get("value")

        async def settle() -> None:
            await asyncio.sleep(1.5)

        await call("Page.navigate", url=page)
        await settle()
        rulesets = await js("[...document.getElementById('ruleset').options].map(o => o.value)")
        assert "example" in rulesets, rulesets
        skeleton = json.loads(await js("document.getElementById('input').value"))
        assert set(skeleton) == {"customer", "order"}, skeleton

        # A regression-suite case as the input: decided as its suite expects.
        await js(
            "const d = document.getElementById('decision'); d.value = 'checkout';"
            "d.dispatchEvent(new Event('change')); 1"
        )
        names = await js("[...document.getElementById('example').options].map(o => o.text)")
        assert len(names) > 1, names
        case = next(i for i, n in enumerate(names) if i and "expects an error" not in n)
        await js(
            f"const e = document.getElementById('example'); e.selectedIndex = {case};"
            "e.dispatchEvent(new Event('change')); document.getElementById('decide').click(); 1"
        )
        await settle()
        assert await js("!document.getElementById('answer').classList.contains('hidden')")
        as_of = await js("document.getElementById('as_of').value")
        assert as_of and as_of in await js("document.getElementById('meta').textContent")

        await js(
            "document.getElementById('decision').value = 'checkout';"
            f"document.getElementById('input').value = {json.dumps(json.dumps(FACTS))};"
            "document.getElementById('decide').click(); 1"
        )
        await settle()
        result = json.loads(await js("document.getElementById('result').textContent"))
        assert result["allowed"] is True, result
        meta = await js("document.getElementById('meta').textContent")
        assert "sha256:" in meta and "decision id" in meta, meta
        rows = await js("document.querySelectorAll('#explanation tbody tr').length")
        assert rows >= 1, rows
        first = await js("document.querySelector('#explanation tbody tr').innerText")
        assert "rules.yaml:" in first, first

        # Decimals are sent as typed: as a binary float 19.994999999999999999 would be
        # 19.995 and round to 20.00.
        precise = (
            '{"customer": {"id": "c-1", "country": "US", "tier": "standard", '
            '"email_verified": true, "member_since": "2020-01-01"}, "order": {"currency": "USD", '
            '"items": [{"sku": "A", "quantity": 1, "unit_price": 19.994999999999999999}]}}'
        )
        await js(
            "document.getElementById('decision').value = 'quote';"
            "document.getElementById('example').value = '';"
            f"document.getElementById('input').value = {json.dumps(precise)};"
            "document.getElementById('decide').click(); 1"
        )
        await settle()
        quote = json.loads(await js("document.getElementById('result').textContent"))
        assert quote["subtotal"] == "19.99", quote
        await js("document.getElementById('decision').value = 'checkout'; 1")

        # Compared with another version: Spain is served from 2026-07 only.
        spain = {**FACTS, "customer": {**FACTS["customer"], "country": "ES"}}
        await js(
            "document.getElementById('example').value = '';"
            "document.getElementById('as_of').value = '2026-07-15';"
            "document.getElementById('compare').value = '2026-01';"
            f"document.getElementById('input').value = {json.dumps(json.dumps(spain))};"
            "document.getElementById('decide').click(); 1"
        )
        await settle()
        title = await js("document.getElementById('compared').textContent")
        assert "2026-01" in title and "differ" in title, title
        fields = await js(
            "[...document.querySelectorAll('#differences tbody tr')].map(r => r.cells[0].textContent)"
        )
        assert "allowed" in fields, fields
        await js("document.getElementById('compare').value = ''; 1")

        await js(
            "document.getElementById('input').value = '{\"customer\": {\"id\": 1}}';"
            "document.getElementById('decide').click(); 1"
        )
        await settle()
        errors = await js("[...document.querySelectorAll('#errors li')].map(li => li.textContent)")
        assert any(e.startswith("input.customer.id:") for e in errors), errors
        assert any(e.startswith("input.order:") for e in errors), errors

        await js(
            "const s = document.getElementById('ruleset'); s.value = 'self-service';"
            "s.dispatchEvent(new Event('change')); 1"
        )
        await asyncio.sleep(0.5)
        decisions = await js("[...document.getElementById('decision').options].map(o => o.value)")
        assert "options" in decisions, decisions


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8766"
    browser = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--remote-debugging-port=9333", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen("http://127.0.0.1:9333/json"))
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("chromium did not start")
        ws_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        asyncio.run(drive(ws_url, base + "/playground"))
    finally:
        browser.terminate()
    print("playground: every check passed")


if __name__ == "__main__":
    main()
