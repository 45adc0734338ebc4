"""The peer of bench/http: a bare FastAPI app whose one endpoint echoes the request body,
served by the same uvicorn (one worker, no access log) as `ruleengine serve`.

    .venv/bin/python bench/http/echo.py --port 8001

`POST /echo` answers the body it received, as application/json: FastAPI's routing, the
request object, reading the body and a `Response`, nothing else. The decision endpoint
does all of that plus parsing, deciding, serializing, metrics, request ids, security
headers, the access log and (optionally) the decision log.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.post("/echo")
async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/json")


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        app, host=args.host, port=args.port, workers=1, access_log=False, log_level="warning"
    )


if __name__ == "__main__":
    main()
