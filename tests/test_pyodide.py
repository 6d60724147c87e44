"""microgpt.py unchanged under Pyodide (CPython compiled to WebAssembly, as in JupyterLite and the browser), in Node.

Set MICROGPT_PYODIDE to the directory of the npm package `pyodide` (e.g. node_modules/pyodide) and have `node` on
PATH; otherwise these tests are skipped. Nothing is downloaded: the package holds the interpreter and stdlib.
"""
import os, re, shutil, subprocess, sys, unittest
from tests.helpers import ROOT, SCRIPT, SMALL, new_folder

RUNNER = os.path.join(ROOT, 'tests', 'pyodide_run.mjs')
PYODIDE = os.environ.get('MICROGPT_PYODIDE', '')
NODE = shutil.which('node')


@unittest.skipUnless(PYODIDE and NODE, 'needs MICROGPT_PYODIDE=<dir of the npm package pyodide> and node on PATH')
class TestPyodide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.small = new_folder(), SMALL  # the first 300 names: a quick run with a 30-document val set

    def run_in(self, where, *args):
        """Run microgpt.py with these args under 'pyodide' or 'cpython'; return the CompletedProcess."""
        args = ['--input', self.small, *map(str, args)]
        command = ([NODE, RUNNER, SCRIPT, self.small, *args] if where == 'pyodide'
                   else [sys.executable, SCRIPT, *args])
        return subprocess.run(command, cwd=self.tmp, capture_output=True, text=True, timeout=300,
                              env={**os.environ, 'MICROGPT_PYODIDE': os.path.abspath(PYODIDE)})

    def stable_lines(self, output):
        """The output lines whose form is fixed: (step, loss) progress, the val loss, the sample lines."""
        return (re.findall(r'^step +(\d+) / 30 \| loss (\d\.\d{4})', output, re.M),
                re.findall(r'^val loss (\d\.\d{4})', output, re.M),
                re.findall(r'^sample +\d+: .*$', output, re.M))

    def test_training_and_sampling_under_pyodide_match_cpython_for_the_same_seed(self):
        args = ('--steps', 30, '--samples', 5, '--seed', 3)
        pyodide, cpython = self.run_in('pyodide', *args), self.run_in('cpython', *args)
        self.assertEqual(pyodide.returncode, 0, pyodide.stderr)
        self.assertEqual(cpython.returncode, 0, cpython.stderr)
        progress, val, samples = self.stable_lines(pyodide.stdout)
        self.assertTrue(progress, pyodide.stdout)
        self.assertEqual(progress[-1][0], '30')
        self.assertEqual(len(val), 1, pyodide.stdout)
        self.assertEqual(len(samples), 5, pyodide.stdout)
        self.assertEqual((progress, val, samples), self.stable_lines(cpython.stdout))  # the same numbers, bit for bit

    def test_bad_input_under_pyodide_exits_with_status_1_one_error_line_and_no_traceback(self):
        for args in (['--n-layer', 0], ['--input', 'no-such-file.txt']):  # sys.exit, and an OSError
            with self.subTest(args=args):
                result = self.run_in('pyodide', *args)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertRegex(result.stderr, r'^microgpt: error: [^\n]*\n?$')
                self.assertNotIn('Traceback', result.stderr)
                self.assertNotIn('step', result.stdout)  # it stopped before training


if __name__ == '__main__':
    unittest.main()
