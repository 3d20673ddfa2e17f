"""genrelab's Jupyter kernel under Jupyter's own tools: the official
jupyter_kernel_test suite, an interrupt sent by jupyter_client, and
examples/tour.ipynb run by nbclient. tests/jupyter.rs runs this file in the
venv .ci/run makes, with JUPYTER_PATH pointing at a freshly installed
kernelspec (`genrelab kernel install --prefix`).

    python -m unittest -v tests/jupyter/test_kernel.py
"""
import os
import time
import unittest

import jupyter_kernel_test as jkt
import nbformat
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

KERNEL = os.environ.get("GENRELAB_KERNEL_NAME", "genrelab")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


class GenrelabKernelTests(jkt.KernelTests):
    kernel_name = KERNEL
    language_name = "rhai"
    file_extension = ".rhai"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'debug("to stderr")'

    completion_samples = [
        {"text": "data::movi", "matches": {"data::movies"}},
        {"text": "metrics::f", "matches": {"metrics::f1", "metrics::fbeta"}},
        {"text": "plot::ba", "matches": {"plot::bar"}},
    ]
    complete_code_samples = ["1 + 1", "let x = 1;", "fn f(x) { x * 2 }", 'print("a")']
    incomplete_code_samples = ["fn f(x) {", 'let s = "abc', "let m = [1,"]
    invalid_code_samples = ["let = ;", "1 +* 2"]

    code_generate_error = 'throw "boom"'
    code_execute_result = [
        {"code": "1 + 2 + 3", "result": "6"},
        {"code": "[1, 2]", "result": "[1, 2]"},
        {"code": "data::matrix([[1, 2], [3, 4]])", "mime": "text/html"},
    ]
    code_display_data = [
        {"code": 'plot::bar([3, 1], ["a", "b"], #{})', "mime": "image/png"},
        {"code": 'plot::bar([3, 1], ["a", "b"], #{})', "mime": "image/svg+xml"},
        {"code": 'import "std/table" as t; t::show([#{ genre: "Drama", n: 3 }])', "mime": "text/html"},
    ]
    code_history_pattern = "1 + 2*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "data::movies"


class InterruptAbortRestartTests(unittest.TestCase):
    def test_interrupt_stops_a_long_cell_within_a_second_and_keeps_variables(self):
        km, kc = start_new_kernel(kernel_name=KERNEL)
        try:
            self.assertEqual(km.kernel_spec.interrupt_mode, "message")
            kc.execute_interactive("let kept = 41;", timeout=30)
            msg_id = kc.execute("let i = 0; loop { i += 1; }")
            time.sleep(1.0)
            asked = time.monotonic()
            km.interrupt_kernel()
            reply = kc.get_shell_msg(timeout=10)
            elapsed = time.monotonic() - asked
            self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
            self.assertEqual(reply["content"]["status"], "error")
            self.assertEqual(reply["content"]["ename"], "Interrupted")
            self.assertLess(elapsed, 1.0)
            outputs = []
            kc.execute_interactive("kept + 1", timeout=30, output_hook=outputs.append)
            results = [m for m in outputs if m["msg_type"] == "execute_result"]
            self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)

    def test_after_an_error_the_queued_cells_are_aborted_and_later_ones_run(self):
        km, kc = start_new_kernel(kernel_name=KERNEL)
        try:
            # A "run all": three cells sent at once, the first fails.
            first = kc.execute('let i = 0; while i < 300000 { i += 1; } throw "boom"')
            queued = [kc.execute("1"), kc.execute("2")]
            replies = {}
            while len(replies) < 3:
                reply = kc.get_shell_msg(timeout=30)
                replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
            self.assertEqual(replies[first], "error")
            self.assertEqual([replies[q] for q in queued], ["aborted", "aborted"])
            # A cell sent after the error reply runs.
            reply = kc.execute_interactive("3", timeout=30, output_hook=lambda m: None)
            self.assertEqual(reply["content"]["status"], "ok")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)

    def test_restart_gives_a_fresh_session(self):
        km, kc = start_new_kernel(kernel_name=KERNEL)
        try:
            kc.execute_interactive("let before_restart = 1;", timeout=30)
            km.restart_kernel(now=False)
            kc.wait_for_ready(timeout=30)
            reply = kc.execute_interactive("before_restart", timeout=30, output_hook=lambda m: None)
            self.assertEqual(reply["content"]["status"], "error")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)


class TourNotebookTests(unittest.TestCase):
    def test_tour_runs_and_shows_a_table_and_a_figure(self):
        path = os.path.join(ROOT, "examples", "tour.ipynb")
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, kernel_name=KERNEL, timeout=600,
                       resources={"metadata": {"path": os.path.join(ROOT, "examples")}}).execute()
        mimes = set()
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                mimes.update(output.get("data", {}).keys())
                self.assertNotEqual(output.get("output_type"), "error", output)
        self.assertIn("text/html", mimes)
        self.assertIn("image/png", mimes)


if __name__ == "__main__":
    unittest.main()
