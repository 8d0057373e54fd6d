"""A tracked cell that fails: no secrets from its error, no literal it never set, a clear top-level await error."""

from __future__ import annotations

from nb_helpers import all_runs, plain

LOAD = "%load_ext nbtrack\nimport nbtrack"


def test_a_failed_cell_does_not_store_secrets_quoted_by_its_error(workdir, start_kernel):
    key = "sk-abcdefghijklmnopqrstuvwxyz123456"
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute(f"%%track\napi_key = '{key}'\nmy_token = 'plain-token-value'\n"
                           "raise ValueError('rejected ' + api_key + ' and ' + my_token + ' at https://u:pw1234@host')")
    assert reply.status == "error" and key in plain(reply.text), "the user still sees the real error"
    (run,) = all_runs()
    assert run.status == "FAILED"
    assert run.error["type"] == "ValueError"
    assert run.error["message"] == "rejected <redacted> and <redacted> at https://<redacted>@host"
    assert "ValueError: rejected <redacted> and <redacted>" in run.error["traceback"]
    for secret in (key, "plain-token-value", "pw1234"):
        assert secret not in str(run.error)


def test_a_cell_that_fails_early_records_no_literal_it_never_assigned(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute("%%track\nlr = 0.1\nraise ValueError('early')\nepochs = 10")
    assert reply.status == "error"
    (run,) = all_runs()
    assert run.status == "FAILED" and run.params == {"lr": 0.1}


def test_top_level_await_shows_one_clear_error_without_generator_exit_noise(workdir, start_kernel):
    kernel = start_kernel()
    assert kernel.execute(LOAD).status == "ok"
    reply = kernel.execute("%%track\nimport asyncio\nlr = 0.5\nawait asyncio.sleep(0.1)\ndone = 1")
    assert reply.status == "error" and reply.ename == "TopLevelAwaitError"
    text = plain(reply.text)
    assert "GeneratorExit" not in text and "_Suspended" not in text
    assert "top-level await is not supported inside %%track" in text
    assert "----> 4 await asyncio.sleep(0.1)" in text, text
    (run,) = all_runs()
    assert run.status == "FAILED" and run.params == {"lr": 0.5}
    assert run.error["type"] == "TopLevelAwaitError"
    assert kernel.execute("print('alive')").stdout == "alive\n"
