"""OPA / Rego: bench/peers/options.rego, through the Go OPA library or rego-cpp.

- OPA Go via `opa-golib-python-bindings` (module `opa_bindings`): the module is
  added once to an `OpaEngine`; each decision is
  `eval_document("selfservice.options.result", input=facts)` (OPA prepares and
  caches the query on first use). The binding moves input and output as JSON.
- rego-cpp via `regopy`: the module is compiled once into a bundle
  (`Interpreter.build` with the entrypoint `selfservice/options/result`); each
  decision sets the input (`set_input(Input(facts))`) and runs
  `query_bundle_entrypoint`. Measured here: a plain `query("data....")`
  re-compiles the module per call (about 10x slower), and
  `set_input_term(json.dumps(facts))` is about 4x slower than `Input(facts)`.
"""

from __future__ import annotations

from typing import Any

from . import HERE, SAMPLE

ENTRYPOINT = "selfservice/options/result"


def _source() -> str:
    return (HERE / "options.rego").read_text("utf-8")


def load_opa_go() -> Any:
    from opa_bindings import OpaEngine

    engine = OpaEngine()
    engine.add_policy("options.rego", _source())
    evaluate = engine.eval_document

    def options(facts: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = evaluate("selfservice.options.result", input=facts)
        return result

    options(SAMPLE)  # prepare (compile) the query now, not on the first timed call
    return options


def load_regopy() -> Any:
    import regopy

    rego = regopy.Interpreter()
    rego.add_module("options.rego", _source())
    bundle = rego.build(None, [ENTRYPOINT])
    if not bundle.ok():
        raise RuntimeError("regopy could not build options.rego")
    set_input, query, Input = rego.set_input, rego.query_bundle_entrypoint, regopy.Input

    def options(facts: dict[str, Any]) -> dict[str, Any]:
        set_input(Input(facts))
        output = query(bundle, ENTRYPOINT)
        if not output.ok():
            raise RuntimeError(str(output))
        result: dict[str, Any] = output[0][0]
        return result

    options(SAMPLE)
    return options
