"""microgpt.py pasted into one notebook cell (no __file__, the kernel's own sys.argv) with its settings edited in
the cell, and the README's recipes run in the next cell, so that none of them can go stale."""
import contextlib, gc, io, os, re, shutil, signal, sys, unittest
from tests.helpers import KERNEL_ARGV, ROOT, SMALL, SOURCE, STOP_SIGNALS, new_folder, progress_steps, samples, \
    settings_block

INPUT = next(name for name, _, _ in settings_block() if name.startswith('input'))


def edit(cell, name, value):
    """The cell with the line of setting `name` replaced by `name = value`, as a notebook user edits it."""
    edited, count = re.subn(rf'^{name} = .*$', f'{name} = {value!r}', cell, flags=re.M)
    assert count == 1, name
    return edited


class TestNotebookCell(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cell = SOURCE
        for name, value in ((INPUT, 'small.txt'), ('steps', 60), ('samples', 4), ('n_embd', 8), ('n_head', 2)):
            cell = edit(cell, name, value)
        cls.folder = new_folder()
        shutil.copy(SMALL, os.path.join(cls.folder, 'small.txt'))  # the data beside the notebook
        # The kernel's output: a text stream (here, one that could even be reconfigured as a terminal's can)
        cwd, argv, out = os.getcwd(), sys.argv, io.TextIOWrapper(io.BytesIO(), encoding='utf-8')
        cls.kernel = [signal.getsignal(s) for s in STOP_SIGNALS], sys.excepthook, gc.isenabled()
        os.chdir(cls.folder)
        sys.argv = list(KERNEL_ARGV)  # what a kernel's sys.argv holds: no flags of the user's
        try:
            cls.names = {'__name__': '__main__'}  # what a kernel's namespace has: no __file__
            with contextlib.redirect_stdout(out):
                exec(compile(cell, '<notebook cell>', 'exec'), cls.names)
            cls.after = [signal.getsignal(s) for s in STOP_SIGNALS], sys.excepthook, gc.isenabled()
        except SystemExit as stop:  # an error of these tests, not an exit of the whole test run
            raise AssertionError(f'the cell exited: {stop.code}') from None
        finally:
            os.chdir(cwd)
            sys.argv = argv
            handlers, sys.excepthook, collecting = cls.kernel
            for s, handler in zip(STOP_SIGNALS, handlers):
                signal.signal(s, handler)
            if collecting:
                gc.enable()
        out.flush()
        cls.output = out.buffer.getvalue().decode('utf-8')

    def test_the_whole_file_runs_as_one_cell_with_the_settings_as_edited_in_it(self):
        # The kernel's argv (-f kernel.json) was not read as flags, or the cell would have stopped with an error
        self.assertEqual([self.names[name] for name in (INPUT, 'steps', 'samples', 'n_embd', 'n_head')],
                         ['small.txt', 60, 4, 8, 2])
        self.assertEqual(len(self.names['state_dict']['wte'][0]), 8)
        self.assertTrue(self.output.startswith('documents: 270 train, 30 val\n'))  # small.txt, from the cwd
        self.assertEqual(progress_steps(self.output)[-1], 60)
        self.assertRegex(self.output, r'\nstep   60 / 60 \| loss \d\.\d{4}')
        self.assertRegex(self.output, r'\nval loss \d\.\d{4}')
        self.assertEqual(len(samples(self.output)), 4)

    def test_the_cell_leaves_the_kernel_s_ctrl_c_and_error_handling_alone(self):
        self.assertEqual(self.after[:2], self.kernel[:2])  # the kernel's own signal handlers and excepthook

    def test_every_python_recipe_in_the_readme_runs_after_training(self):
        with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
            blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
        self.assertGreaterEqual(len(blocks), 1)
        for block in blocks:
            with self.subTest(block[:40]), contextlib.redirect_stdout(io.StringIO()) as out:
                exec(block, self.names)
                self.assertTrue(out.getvalue().strip(), 'a recipe shows something')


if __name__ == '__main__':
    unittest.main()
