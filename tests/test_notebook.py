"""microgpt.py pasted into one notebook cell: one namespace, no __file__, and a Jupyter kernel's own argv."""
import contextlib, io, os, shutil, sys, tempfile, unittest
from tests.helpers import NAMES, SCRIPT, samples


class TestNotebookCell(unittest.TestCase):
    def test_the_whole_file_runs_as_one_cell(self):
        with open(SCRIPT, encoding='utf-8') as f:
            source = f.read()
        # A notebook user changes settings by editing the defaults in the CONFIG table, as the README says
        for default in ("('steps', 1000,", "('samples', 20,"):
            self.assertEqual(source.count(default), 1, default)
        edited = source.replace("('steps', 1000,", "('steps', 60,").replace("('samples', 20,", "('samples', 4,")
        folder = tempfile.mkdtemp(prefix='notebook-')
        shutil.copy(NAMES, folder)  # names.txt beside the notebook
        cwd, argv, out = os.getcwd(), sys.argv, io.StringIO()
        os.chdir(folder)
        sys.argv = ['/usr/lib/python3/dist-packages/ipykernel_launcher.py', '-f', '/tmp/kernel-1.json']
        try:
            cell = {'__name__': '__main__'}  # what a kernel's namespace has: no __file__
            with contextlib.redirect_stdout(out):
                exec(compile(edited, '<notebook cell>', 'exec'), cell)
        finally:
            os.chdir(cwd)
            sys.argv = argv
        output = out.getvalue()
        self.assertNotIn('__file__', cell)
        self.assertEqual(cell['cfg']['input'], 'names.txt')  # found in the notebook's directory
        self.assertIn('documents: 31533 train, 500 val', output)
        self.assertRegex(output, r'step +60 / 60 \| loss \d\.\d{4}')
        self.assertRegex(output, r'\nval loss \d\.\d{4} \| 60 steps')
        self.assertEqual(len(samples(output)), 4)


if __name__ == '__main__':
    unittest.main()
