"""Stopping, made exact: microgpt.py runs as a script whose doc_losses sends the process its own signals at a chosen
step, so each case happens at a known point (no sleeps, no races). And a crash in training keeps the old model."""
import json, os, signal, subprocess, sys, unittest
from tests.helpers import NAMES, SCRIPT, SOURCE, TMP, default_stop_signals, new_folder, run, samples

ANCHOR = '# Training:'
# Put into microgpt.py before its Training section: a doc_losses that, at its call number signal_at (0: as training
# is about to start), sends the process signal_count signals signal_name
INJECT = '''calls = []
def send():
    for _ in range(signal_count): os.kill(os.getpid(), getattr(signal, signal_name))
def doc_losses(doc, doc_losses=doc_losses):
    calls.append(doc)
    if len(calls) == signal_at: send()
    return doc_losses(doc)
if signal_at == 0: send()
'''
# In a fresh process: microgpt.py as a script, so changed; the signals in ignored are ignored from the start (as nohup
# ignores SIGHUP), the other stop signals are as a terminal gives them (self_signal's preexec_fn)
SELF_SIGNAL = '''import signal, sys
script, at, name, count, ignored, inject, anchor = sys.argv[1:8]
sys.argv = [script] + sys.argv[8:]
for ignore in filter(None, ignored.split(',')):
    signal.signal(getattr(signal, ignore), signal.SIG_IGN)
source = open(script, encoding='utf-8').read()
assert source.count(anchor) == 1
names = dict(__name__='__main__', __file__=script, signal_at=int(at), signal_name=name, signal_count=int(count))
exec(compile(source.replace(anchor, inject + anchor), script, 'exec'), names)
'''
TWENTY = os.path.join(TMP, 'twenty.txt')  # 18 to train on, 2 held out
with open(NAMES) as f, open(TWENTY, 'w') as out:
    out.writelines(f.readlines()[200:220])


def self_signal(at, sig, count, *args, ignored='', no_output=False):
    """Run microgpt.py (a small model on TWENTY, saving m.json) with signals sent at a step; return the result and
    the steps that the saved model records (None: no file). no_output: run it with its stdout closed (>&-)."""
    folder = new_folder()
    command = [sys.executable, '-c', SELF_SIGNAL, SCRIPT, str(at), sig, str(count), ignored, INJECT, ANCHOR,
               '--input', TWENTY, '--n-embd', '8', '--n-head', '2', '--save', 'm.json', *map(str, args)]
    def preexec():
        default_stop_signals()
        if no_output:
            os.close(1)
    result = subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL if no_output else subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=preexec)
    path = os.path.join(folder, 'm.json')
    if not os.path.exists(path):
        return result, None
    with open(path) as f:
        return result, json.load(f)['settings']['steps']


class TestSignals(unittest.TestCase):
    def test_one_signal_ends_training_after_its_step_and_the_run_goes_on(self):
        result, saved = self_signal(3, 'SIGTERM', 1, '--steps', 20, '--samples', 2)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertIn('stopped after 3 steps', result.stdout)
        self.assertIn('val loss', result.stdout)
        self.assertEqual(len(samples(result.stdout)), 2)
        self.assertEqual(saved, 3)

    def test_a_second_signal_ends_the_run_quietly_once_the_model_is_saved(self):
        result, saved = self_signal(3, 'SIGINT', 2, '--steps', 20, '--samples', 2)
        self.assertEqual((result.returncode, result.stderr), (130, ''))  # 130: ended by Ctrl-C, and no traceback
        self.assertNotIn('val loss', result.stdout)
        self.assertEqual(samples(result.stdout), [])
        self.assertEqual(saved, 3)

    def test_a_signal_with_nothing_to_train_ends_the_run(self):
        result, saved = self_signal(0, 'SIGINT', 1, '--steps', 0, '--samples', 2)
        self.assertEqual((result.returncode, result.stderr), (130, ''))
        self.assertNotIn('val loss', result.stdout)
        self.assertEqual(samples(result.stdout), [])

    def test_with_no_output_at_all_a_signal_still_ends_training_and_keeps_it(self):
        result, saved = self_signal(3, 'SIGTERM', 1, '--steps', 20, '--samples', 2, no_output=True)  # as with >&-
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertEqual(saved, 3)

    def test_a_hangup_ignored_as_under_nohup_does_not_stop_training(self):
        result, saved = self_signal(3, 'SIGHUP', 1, '--steps', 10, '--samples', 0, ignored='SIGHUP')
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertNotIn('stopped', result.stdout)
        self.assertIn('step   10 / 10', result.stdout)
        self.assertEqual(saved, 10)


class TestCrash(unittest.TestCase):
    def test_a_bug_shows_its_whole_traceback_as_a_command(self):
        # Injected as a 'signal' that is no signal: the injected doc_losses raises in training
        result, saved = self_signal(2, 'NO_SUCH_SIGNAL', 1, '--steps', 5, '--samples', 0)
        self.assertEqual(result.returncode, 1)
        self.assertIn('Traceback (most recent call last)', result.stderr)
        self.assertIn("AttributeError: module 'signal' has no attribute 'NO_SUCH_SIGNAL'", result.stderr)
        self.assertIsNone(saved)  # a crash saves nothing

    def test_a_crash_in_training_leaves_the_old_model_as_it_was(self):
        # The save before training only tries the path: the old model is replaced only when there is a new one
        folder = new_folder()
        path = os.path.join(folder, 'm.json')
        args = ('--input', TWENTY, '--n-embd', 8, '--n-head', 2, '--samples', 0, '--save', path)
        run(*args, '--steps', 2)
        with open(path, 'rb') as f:
            old = f.read()
        crash = SOURCE.replace(ANCHOR, "raise RuntimeError('a crash in training')\n" + ANCHOR)
        with self.assertRaises(RuntimeError):
            run(*args, '--steps', 5, source=crash)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), old)
        self.assertEqual(os.listdir(folder), ['m.json'])  # and the try left no file of its own


if __name__ == '__main__':
    unittest.main()
