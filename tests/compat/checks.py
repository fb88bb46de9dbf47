"""The check harness the Python compat drivers share.

A driver runs each check with check(name, fn, *args): it prints
"ok   <name>" or "FAIL <name>: <reason>" and records failures in the
module's failures list, which the driver inspects at the end.
"""

import sys
import time
import traceback

TIMEOUT = 30.0

failures = []


class CheckFailed(Exception):
    """A check's expectation did not hold."""


def expect(cond, msg, *args):
    if not cond:
        raise CheckFailed(msg % args if args else msg)


def check(name, fn, *args):
    """Runs one check and reports it; returns fn's result or None."""
    try:
        result = fn(*args)
    except CheckFailed as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        failures.append(name)
        return None
    except Exception as e:  # an unexpected client error is a failure too
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
        traceback.print_exc(file=sys.stdout)
        failures.append(name)
        return None
    print("ok   %s" % name, flush=True)
    return result if result is not None else True


def wait_until(what, cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise CheckFailed("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(0.1)
