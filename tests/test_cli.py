"""microgpt.py driven as users drive it: its command line, its output, its files, its errors."""
import json, math, os, re, signal, subprocess, sys, tempfile, time, unittest
from unittest import mock
from tests.helpers import SCRIPT, SMALL, TMP, all_logits, cli, model, run, samples, val_loss


class TestRuns(unittest.TestCase):
    def test_output_reads_as_a_narrative_in_the_documented_forms(self):
        result = cli('--input', SMALL, '--steps', 40, '--samples', 5)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout.splitlines()
        self.assertEqual(out[0], 'documents: 270 train, 30 val')
        self.assertRegex(out[1], r'^vocabulary: \d+ tokens \(\d+ characters and BOS\); 0 documents cut')
        self.assertRegex(out[2], r'^parameters: \d+$')
        progress = [line for line in out if line.startswith('step')]
        self.assertLessEqual(len(progress), 11)  # a person can watch it: no line per step
        for line in progress:
            self.assertRegex(line, r'^step +\d+ / 40 \| loss \d\.\d{4} \| \d+\.\d ms/step \| \d+ s left$')
        self.assertRegex(progress[-1], r'^step +40 / 40 ')
        self.assertRegex(result.stdout, r'\nval loss \d\.\d{4} \| 40 steps, \d+\.\d s in all\n')
        self.assertEqual(len(samples(result.stdout)), 5)
        self.assertEqual(result.stderr, '')

    def test_training_lowers_the_validation_loss(self):
        untrained = model()
        token_losses = [loss.data for doc in untrained['val_docs'] for loss in untrained['doc_losses'](doc)]
        before = sum(token_losses) / len(token_losses)
        after = val_loss(run('--input', SMALL, '--steps', 300, '--samples', 0)[1])
        self.assertAlmostEqual(before, math.log(27), delta=0.15)  # untrained: about uniform over the tokens
        self.assertLess(after, before - 0.5)

    def test_the_same_seed_gives_the_same_samples_and_another_seed_others(self):
        first = run('--input', SMALL, '--steps', 30, '--samples', 8, '--seed', 7)[1]
        second = run('--input', SMALL, '--steps', 30, '--samples', 8, '--seed', 7)[1]
        other = run('--input', SMALL, '--steps', 30, '--samples', 8, '--seed', 8)[1]
        self.assertEqual(samples(first), samples(second))
        self.assertNotEqual(samples(first), samples(other))

    def test_copies_of_training_documents_are_marked_and_only_they(self):
        ns, out = run('--input', SMALL, '--steps', 300, '--samples', 40, '--seed', 3)
        lines = re.findall(r'^sample +\d+: ([^ ]*)(  \(in training data\))?$', out, re.M)
        self.assertEqual(len(lines), 40)
        for name, mark in lines:
            self.assertEqual(bool(mark), name in ns['train_docs'], name)
        self.assertTrue(any(mark for _, mark in lines) and not all(mark for _, mark in lines))

    def test_every_sample_starts_with_the_prefix(self):
        out = run('--input', SMALL, '--steps', 30, '--samples', 10, '--prefix', 'ma')[1]
        names = samples(out)
        self.assertEqual(len(names), 10)
        self.assertTrue(all(name.split()[0].startswith('ma') for name in names))

    def test_a_single_document_works_without_a_validation_set(self):
        path = os.path.join(TMP, 'one.txt')
        with open(path, 'w') as f:
            f.write('hello\n')
        result = cli('--input', path, '--steps', 5, '--samples', 2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('documents: 1 train, 0 val', result.stdout)
        self.assertRegex(result.stdout, r'\n5 steps, \d+\.\d s in all\n')  # no val loss, but the time

    def test_byte_order_mark_carriage_returns_and_blank_lines_are_not_data(self):
        path = os.path.join(TMP, 'windows.txt')
        with open(path, 'wb') as f:
            f.write('\ufeffanna\r\n\r\n  bob  \r\n\n'.encode('utf-8'))
        ns = model('--input', path)
        self.assertEqual(sorted(ns['docs']), ['anna', 'bob'])
        self.assertEqual(ns['chars'], ['a', 'b', 'n', 'o'])

    def test_long_documents_are_cut_to_the_block_and_counted_once(self):
        path = os.path.join(TMP, 'long.txt')
        with open(path, 'w') as f:
            f.write('abcdefghij\nab\nabcdefg\n')  # 11, 3 and 8 predictions
        result = cli('--input', path, '--block-size', 8, '--steps', 3, '--samples', 1)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('; 1 documents cut to --block-size', result.stdout)
        ns = model('--input', path, '--block-size', 8)
        self.assertEqual(len(ns['doc_losses']('abcdefghij')), 8)

    def test_a_deep_model_trains_without_recursion_errors(self):
        path = os.path.join(TMP, 'deep.txt')
        with open(path, 'w') as f:
            f.write('abcdefghijklmnopqrstuvwxyz' * 2 + '\n')
        result = cli('--input', path, '--n-layer', 8, '--n-embd', 8, '--n-head', 2, '--block-size', 64,
                     '--steps', 1, '--samples', 0)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('step    1 / 1', result.stdout)


    def test_steps_0_samples_0_sets_up_and_stops(self):
        ns, out = run('--steps', 0, '--samples', 0)  # the full dataset: no validation pass to wait for
        self.assertEqual(out.splitlines()[-1], '0 steps, 0.0 s in all')
        self.assertEqual(len(ns['params']), 4192)


class TestSaveAndLoad(unittest.TestCase):
    def test_save_then_load_gives_the_same_model(self):
        path = os.path.join(TMP, 'model.json')
        trained, out = run('--input', SMALL, '--n-layer', 2, '--n-embd', 8, '--n-head', 2, '--steps', 20,
                           '--samples', 0, '--save', path)
        self.assertIn(f'saved the model to {path}', out)
        loaded, out = run('--input', SMALL, '--load', path, '--samples', 3)
        self.assertEqual(all_logits(loaded, 'kate'), all_logits(trained, 'kate'))  # exactly: JSON keeps every float
        self.assertEqual((loaded['n_layer'], loaded['n_embd'], loaded['n_head']), (2, 8, 2))
        self.assertEqual(loaded['chars'], trained['chars'])
        self.assertIn('| 0 steps,', out)  # --load without --steps only samples
        self.assertEqual(len(samples(out)), 3)
        with open(path) as f:
            saved = json.load(f)
        self.assertEqual(set(saved), {'config', 'chars', 'state_dict'})
        self.assertEqual(set(saved['state_dict']), set(trained['state_dict']))

    def test_load_then_train_more(self):
        path = os.path.join(TMP, 'more.json')
        run('--input', SMALL, '--steps', 10, '--samples', 0, '--save', path)
        ns, out = run('--input', SMALL, '--load', path, '--steps', 5, '--samples', 0, '--save', path)
        self.assertIn('| 5 steps,', out)
        loaded = run('--input', SMALL, '--load', path, '--samples', 0)[0]
        self.assertEqual(all_logits(loaded, 'kate'), all_logits(ns, 'kate'))

    def test_a_crash_while_saving_leaves_the_old_file_whole(self):
        path = os.path.join(TMP, 'precious.json')
        with open(path, 'w') as f:
            f.write('the old model')
        def dump_then_crash(obj, f):
            f.write('{"config": ')
            raise OSError('disk full')
        with mock.patch('json.dump', dump_then_crash), self.assertRaises(OSError):
            run('--input', SMALL, '--steps', 2, '--samples', 0, '--save', path)
        with open(path) as f:
            self.assertEqual(f.read(), 'the old model')

    def test_saving_writes_no_file_but_the_one_named(self):
        folder = tempfile.mkdtemp(dir=TMP)
        cli('--input', SMALL, '--steps', 2, '--samples', 0, '--save', 'm.json', cwd=folder)
        self.assertEqual(os.listdir(folder), ['m.json'])


class TestInterrupt(unittest.TestCase):
    def test_ctrl_c_stops_training_but_still_validates_saves_and_samples(self):
        folder = tempfile.mkdtemp(dir=TMP)
        # A background job inherits SIGINT as ignored, and then Python installs no Ctrl-C handler: restore it
        proc = subprocess.Popen([sys.executable, SCRIPT, '--input', SMALL, '--steps', '1000000', '--samples', '3',
                                 '--save', 'm.json'], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        def stop():  # whatever happens in this test, leave no training run behind
            proc.kill()
            proc.communicate()
        self.addCleanup(stop)
        for line in proc.stdout:  # wait until training has begun
            if line.startswith('step'):
                break
        else:
            self.fail(f'training never began: {proc.communicate()[1]}')
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertRegex(out, r'interrupted after \d+ steps')
        self.assertRegex(out, r'\nval loss \d\.\d{4}')
        self.assertEqual(len(samples(out)), 3)
        self.assertTrue(os.path.exists(os.path.join(folder, 'm.json')))
        self.assertNotIn('Traceback', err)


class TestBadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        def write(name, data):
            path = os.path.join(TMP, name)
            with open(path, 'wb') as f:
                f.write(data)
            return path
        cls.latin1 = write('latin1.txt', 'Zoë\nJosé\n'.encode('latin-1'))
        cls.blank = write('blank.txt', b'\n   \n\r\n')
        cls.not_json = write('notjson.json', b'hello')
        cls.not_model = write('notmodel.json', b'{"config": [1, 2]}')
        cls.capitals = write('capitals.txt', b'Anna\nBob\n')
        cls.model = os.path.join(TMP, 'bad-input-model.json')
        run('--input', SMALL, '--steps', 1, '--samples', 0, '--save', cls.model)
        with open(cls.model) as f:
            wrong = json.load(f)
        wrong['state_dict']['wte'].pop()  # one row short
        cls.wrong_shape = write('wrongshape.json', json.dumps(wrong).encode())

    def assertCleanError(self, args, *phrases):
        result = cli(*args)
        self.assertEqual(result.returncode, 1, result.stderr)
        err = result.stderr.strip()
        self.assertEqual(len(err.splitlines()), 1, err)  # one line, no traceback
        self.assertTrue(err.startswith('microgpt: error: '), err)
        for phrase in phrases:
            self.assertIn(phrase, err)
        self.assertNotIn('step ', result.stdout)  # stopped before any training
        return err

    def test_each_bad_input_gets_one_clean_line(self):
        cases = [
            (['--input', 'no-such-file.txt'], 'cannot read --input', 'No such file'),
            (['--input', TMP], 'cannot read --input', 'directory'),
            (['--input', self.latin1], 'not UTF-8'),
            (['--input', self.blank], 'no non-blank line'),
            (['--n-embd', 10, '--n-head', 4], 'multiple of --n-head'),
            (['--n-layer', 0], '--n-layer must be above 0'),
            (['--n-embd', -8], '--n-embd must be above 0'),
            (['--n-head', 0], '--n-head must be above 0'),
            (['--block-size', 0], '--block-size must be above 0'),
            (['--steps', -1], '--steps cannot be negative'),
            (['--samples', -5], '--samples cannot be negative'),
            (['--temperature', 0], '--temperature must be above 0'),
            (['--temperature', -1], '--temperature must be above 0'),
            (['--temperature', 'nan'], '--temperature must be above 0'),
            (['--prefix', 'Q'], "'Q'", 'vocabulary'),
            (['--prefix', 'a' * 16], '--prefix', 'shorter'),
            (['--load', 'no-such-model.json'], 'cannot read --load', 'No such file'),
            (['--load', self.not_json], 'not a model written by --save'),
            (['--load', self.not_model], 'not a model written by --save'),
            (['--load', self.wrong_shape], 'shapes'),
            (['--load', self.model, '--n-embd', 32], 'contradict'),
            (['--load', self.model, '--input', self.capitals], "'AB'", 'vocabulary'),
            (['--save', os.path.join(TMP, 'no-such-dir', 'm.json')], 'cannot --save', 'directory'),
            (['--save', TMP], 'cannot --save'),
            (['--stpes', 5], 'unrecognized arguments: --stpes', 'see --help'),
            (['--steps', 'ten'], "invalid int value: 'ten'"),
        ]
        for args, *phrases in cases:
            with self.subTest(args=args):
                args = args if '--input' in args else ['--input', SMALL] + args
                self.assertCleanError(args + ['--samples', 0] * ('--samples' not in args), *phrases)

    def test_a_size_flag_that_agrees_with_the_loaded_model_is_fine(self):
        result = cli('--input', SMALL, '--load', self.model, '--n-embd', 16, '--samples', 1)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_learning_rate_that_blows_up_says_so_instead_of_crashing(self):
        result = cli('--input', SMALL, '--lr', 1e300, '--steps', 50, '--samples', 0)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r'^microgpt: error: the loss became (nan|inf) at step \d+: '
                                        r'the learning rate is too high; try a lower --lr\n$')

    def test_the_input_is_never_overwritten(self):
        with open(SMALL, 'rb') as f:
            before = f.read()
        self.assertCleanError(['--input', SMALL, '--save', SMALL, '--samples', 0], 'cannot --save',
                              'not the --input data')
        with open(SMALL, 'rb') as f:
            self.assertEqual(f.read(), before)


if __name__ == '__main__':
    unittest.main()
