"""microgpt.py pasted into one notebook cell (no __file__, the kernel's own sys.argv), and the README's recipes
run in the next cell, so that none of them can go stale."""
import contextlib, io, os, re, shutil, sys, unittest
from tests.helpers import ROOT, SMALL, SOURCE, new_folder, samples


class TestNotebookCell(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A notebook user changes settings by editing the defaults in the CONFIG table, as the README says
        edits = {"('input', 'names.txt',": "('input', 'small.txt',", "('steps', 1000,": "('steps', 60,",
                 "('samples', 20,": "('samples', 4,"}
        cell = SOURCE
        for default, edited in edits.items():
            assert cell.count(default) == 1, default
            cell = cell.replace(default, edited)
        folder = new_folder()
        shutil.copy(SMALL, os.path.join(folder, 'small.txt'))  # the data beside the notebook
        cwd, argv, out = os.getcwd(), sys.argv, io.StringIO()
        os.chdir(folder)
        sys.argv = ['/usr/lib/python3/dist-packages/ipykernel_launcher.py', '-f', '/tmp/kernel-1.json']
        try:
            cls.names = {'__name__': '__main__'}  # what a kernel's namespace has: no __file__
            with contextlib.redirect_stdout(out):
                exec(compile(cell, '<notebook cell>', 'exec'), cls.names)
        finally:
            os.chdir(cwd)
            sys.argv = argv
        cls.output = out.getvalue()

    def test_the_whole_file_runs_as_one_cell_with_the_table_s_settings(self):
        self.assertEqual(self.names['cfg']['input'], 'small.txt')  # the edited default, in the notebook's folder
        self.assertIn('documents: 270 train, 30 val', self.output)
        self.assertRegex(self.output, r'step +60 / 60 \| loss \d\.\d{4}')
        self.assertRegex(self.output, r'\nval loss \d\.\d{4}')
        self.assertEqual(len(samples(self.output)), 4)

    def test_the_plumbing_leaves_no_temporaries_in_the_namespace(self):
        for name in ('parser', 'given', 'argv', 'here', 'args', 'tmp', 'numbers', 'width'):
            self.assertNotIn(name, self.names)

    def test_every_python_recipe_in_the_readme_runs_after_training(self):
        with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
            blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
        self.assertGreaterEqual(len(blocks), 3)
        for block in blocks:
            with self.subTest(block[:40]), contextlib.redirect_stdout(io.StringIO()) as out:
                exec(block, self.names)
                self.assertTrue(out.getvalue().strip(), 'a recipe shows something')


if __name__ == '__main__':
    unittest.main()
