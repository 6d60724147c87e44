"""microgpt.py driven as users drive it: its command line, its output, its numbers, its files and its errors."""
import functools, json, math, os, pathlib, re, signal, statistics, subprocess, sys, time, unittest
from unittest import mock
from tests.helpers import (NAMES, SCRIPT, SMALL, SOURCE, all_logits, cli, model, new_folder, run, samples,
                           val_loss, weights)


@functools.lru_cache(maxsize=None)
def trained():
    """One model trained for 200 steps on the small dataset, shared by the tests that only look at it."""
    return run('--input', SMALL, '--steps', 200, '--samples', 0)


def greedy(m):
    """The name the model makes when it always takes its most likely next token: sampling at temperature -> 0."""
    keys, values = [[] for _ in range(m.n_layer)], [[] for _ in range(m.n_layer)]
    tokens = [m.BOS]
    for pos in range(m.block_size):
        logits = [z.data for z in m.gpt(tokens[pos], pos, keys, values)]
        best = logits.index(max(logits))
        if best == m.BOS:
            break
        tokens.append(best)
    return m.decode(tokens[1:])


class TestOutput(unittest.TestCase):
    def test_the_output_reads_as_a_narrative_in_the_documented_forms(self):
        result = cli('--input', SMALL, '--steps', 40, '--samples', 5)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout.splitlines()
        self.assertEqual(out[:3], ['documents: 270 train, 30 val', 'vocabulary: 27', 'parameters: 4192'])
        progress = [line for line in out if line.startswith('step')]
        self.assertEqual([int(line.split()[1]) for line in progress], [1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40])
        for line in progress:
            self.assertRegex(line, r'^step +\d+ / 40 \| loss \d\.\d{4} \| \d+\.\d ms/step \| \d+ s left$')
        self.assertRegex(result.stdout, r'\nval loss \d\.\d{4} \| per token, 30 held-out docs\n')
        self.assertEqual(len(samples(result.stdout)), 5)
        self.assertEqual(result.stderr, '')

    def test_the_progress_loss_is_the_mean_training_loss_of_the_last_100_steps(self):
        m, out = trained()
        shown = [float(x) for x in re.findall(r'^step +\d+ / 200 \| loss (\d\.\d{4})', out, re.M)]
        self.assertEqual(len(m.losses), 200)
        self.assertAlmostEqual(shown[-1], statistics.fmean(m.losses[-100:]), delta=5e-5)
        self.assertAlmostEqual(shown[0], m.losses[0], delta=5e-5)


class TestValidation(unittest.TestCase):
    def test_the_held_out_set_is_fixed_distinct_and_never_trained_on(self):
        a, b = model(), model('--seed', 7)
        self.assertEqual(a.val_docs, b.val_docs)  # the same for every seed ...
        self.assertNotEqual(a.train_docs, b.train_docs)  # ... while the training order follows the seed
        self.assertEqual(len(a.val_docs), 30)  # a tenth of the 300 documents
        self.assertGreater(len({doc[0] for doc in a.val_docs}), 10)  # drawn from all over, not a run of a-names
        self.assertFalse(set(a.val_docs) & set(a.train_docs))
        with open(SMALL) as f:
            self.assertEqual(sorted(a.val_docs + a.train_docs), sorted(set(f.read().split())))
        full = run('--input', NAMES, source=SOURCE[:SOURCE.index('# Tokenizer')])[0]  # setup and data only
        self.assertEqual(len(full.val_docs), 500)  # at most 500
        self.assertEqual(len(full.train_docs) + 500, 29494)  # names.txt: 32,033 lines, 29,494 distinct names

    def test_the_val_loss_is_the_mean_loss_per_token_on_the_held_out_documents(self):
        m, out = trained()
        token_losses = [loss.data for doc in m.val_docs for loss in m.doc_losses(doc)]
        self.assertEqual(val_loss(out), round(sum(token_losses) / len(token_losses), 4))

    def test_an_untrained_model_shows_its_val_loss_near_uniform_and_training_lowers_it(self):
        before = val_loss(run('--input', SMALL, '--steps', 0, '--samples', 0)[1])
        after = val_loss(trained()[1])
        self.assertAlmostEqual(before, math.log(27), delta=0.15)  # untrained: about uniform over 27 tokens
        self.assertLess(after, before - 0.5)

    def test_a_single_document_trains_without_a_validation_set(self):
        path = os.path.join(new_folder(), 'one.txt')
        with open(path, 'w') as f:
            f.write('hello\n')
        result = cli('--input', path, '--steps', 5, '--samples', 2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('documents: 1 train, 0 val', result.stdout)
        self.assertNotIn('val loss', result.stdout)
        self.assertEqual(len(samples(result.stdout)), 2)


class TestData(unittest.TestCase):
    def test_byte_order_mark_carriage_returns_blank_lines_and_repeats_are_not_data(self):
        path = os.path.join(new_folder(), 'windows.txt')
        with open(path, 'wb') as f:
            f.write('\ufeffanna\r\n\r\n  bob  \r\nanna\n\n'.encode('utf-8'))
        m = model('--input', path)
        self.assertEqual(sorted(m.docs), ['anna', 'bob'])
        self.assertEqual(m.chars, ['a', 'b', 'n', 'o'])

    def test_long_documents_are_cut_to_the_block_size(self):
        m = model('--input', SMALL, '--block-size', 8)
        self.assertEqual(len(m.doc_losses('abcdefghij')), 8)  # 11 predictions, cut to 8
        self.assertEqual(len(m.doc_losses('abc')), 4)

    def test_a_deep_model_trains_without_recursion_errors(self):
        path = os.path.join(new_folder(), 'deep.txt')
        with open(path, 'w') as f:
            f.write('abcdefghijklmnopqrstuvwxyz\n')
        result = cli('--input', path, '--n-layer', 8, '--n-embd', 8, '--n-head', 2, '--block-size', 32,
                     '--steps', 1, '--samples', 0)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('step    1 / 1', result.stdout)


class TestSampling(unittest.TestCase):
    def test_at_a_temperature_near_zero_every_sample_is_the_most_likely_name(self):
        m, out = run('--input', SMALL, '--steps', 30, '--samples', 5, '--temperature', 1e-6)
        self.assertEqual([name.split()[0] for name in samples(out)], [greedy(m)] * 5)

    def test_the_same_seed_gives_the_same_samples_and_another_seed_others(self):
        args = ('--input', SMALL, '--steps', 5, '--samples', 6, '--temperature', 1.0)
        first, second = run(*args, '--seed', 7)[1], run(*args, '--seed', 7)[1]
        self.assertEqual(samples(first), samples(second))
        self.assertNotEqual(samples(first), samples(run(*args, '--seed', 8)[1]))

    def test_copies_of_training_documents_are_marked_and_nothing_else(self):
        m = model()
        val_doc, train_doc = m.val_docs[0], m.train_docs[0]
        picks = iter(m.encode(val_doc) + [m.BOS] + m.encode(train_doc) + [m.BOS] + m.encode('zzq') + [m.BOS])
        with mock.patch('random.choices', lambda *args, **kwargs: [next(picks)]):  # the sampler's draws
            out = run('--input', SMALL, '--steps', 0, '--samples', 3)[1]
        self.assertEqual(samples(out), [val_doc, train_doc + '  (in training data)', 'zzq'])


class TestSaveAndLoad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(new_folder(), 'model.json')
        cls.trained, cls.out = run('--input', SMALL, '--n-layer', 2, '--n-embd', 8, '--n-head', 2, '--steps', 20,
                                   '--samples', 0, '--save', cls.path, '--seed', 3)

    def test_a_saved_model_loads_bit_for_bit_and_only_samples(self):
        loaded, out = run('--input', SMALL, '--load', self.path, '--samples', 3)
        self.assertEqual(all_logits(loaded, 'kate'), all_logits(self.trained, 'kate'))  # JSON keeps every float
        self.assertEqual((loaded.n_layer, loaded.n_embd, loaded.n_head), (2, 8, 2))
        self.assertEqual(loaded.chars, self.trained.chars)
        self.assertNotRegex(out, r'(?m)^step')  # --load without --steps: no training ...
        self.assertNotIn('val loss', out)  # ... and no waiting for a validation it had when it was saved
        self.assertEqual(len(samples(out)), 3)

    def test_the_file_records_how_the_model_was_made_and_loading_says_so(self):
        with open(self.path) as f:
            saved = json.load(f)
        self.assertEqual(set(saved), {'config', 'chars', 'state_dict'})
        self.assertEqual(set(saved['state_dict']), set(self.trained.state_dict))
        made = saved['config']
        self.assertEqual((made['seed'], made['steps'], os.path.basename(made['input'])), (3, 20, 'small.txt'))
        self.assertEqual(made['val_loss'], val_loss(self.out))
        self.assertEqual((made['n_layer'], made['n_embd'], made['lr'], made['load']), (2, 8, 0.01, ''))
        out = run('--input', SMALL, '--load', self.path, '--samples', 0)[1]
        self.assertIn(f'loaded {self.path}: {made}', out.splitlines())

    def test_loading_then_training_starts_from_the_loaded_weights_and_records_them(self):
        path = os.path.join(new_folder(), 'more.json')
        start = model('--load', self.path)
        more = run('--input', SMALL, '--load', self.path, '--steps', 2, '--lr', 1e-9, '--save', path)[0]
        self.assertLess(max(abs(a - b) for a, b in zip(weights(start), weights(more))), 1e-7)  # moved by ~lr
        with open(path) as f:
            made = json.load(f)['config']
        self.assertEqual((made['steps'], made['load']), (2, self.path))  # this run's steps, and where it began
        self.assertEqual(all_logits(model('--load', path), 'kate'), all_logits(more, 'kate'))

    def test_the_model_is_saved_before_validation_ends(self):
        path = os.path.join(new_folder(), 'early.json')
        real = print
        def crash_at_the_val_loss(*args, **kwargs):
            if str(args[0]).startswith('val loss'):
                raise RuntimeError('crash during validation')
            real(*args, **kwargs)
        with mock.patch('builtins.print', crash_at_the_val_loss), self.assertRaises(RuntimeError):
            run('--input', SMALL, '--steps', 3, '--samples', 0, '--save', path)
        with open(path) as f:
            made = json.load(f)['config']
        self.assertEqual((made['steps'], made['val_loss']), (3, None))

    def test_saving_over_a_model_writes_no_other_file_and_a_stale_temporary_file_does_not_block_it(self):
        folder = new_folder()
        path = os.path.join(folder, 'm.json')
        with open(f'{path}.{os.getpid()}.tmp', 'w') as f:  # left by a save in this process that failed
            f.write('half a model')
        for _ in range(2):
            run('--input', SMALL, '--steps', 2, '--samples', 0, '--save', path)
            self.assertEqual(os.listdir(folder), ['m.json'])

    def test_a_full_disk_leaves_the_old_model_whole_and_says_so(self):
        path = os.path.join(new_folder(), 'precious.json')
        run('--input', SMALL, '--steps', 1, '--samples', 0, '--save', path)
        with open(path) as f:
            before = f.read()
        real, calls = pathlib.Path.write_text, []
        def write_text(self, text):  # the try before training succeeds; the real save runs out of space
            calls.append(self)
            if len(calls) > 1:
                real(self, text[:100])
                raise OSError(28, 'No space left on device')
            return real(self, text)
        with mock.patch('pathlib.Path.write_text', write_text), self.assertRaises(SystemExit) as stop:
            run('--input', SMALL, '--steps', 2, '--samples', 0, '--save', path)
        self.assertRegex(str(stop.exception.code), r'^microgpt: error: cannot --save to .*: No space left on device')
        with open(path) as f:
            self.assertEqual(f.read(), before)

    def test_a_refused_rename_says_where_the_trained_model_is(self):
        path = os.path.join(new_folder(), 'locked.json')
        with mock.patch('os.replace', side_effect=PermissionError(1, 'Operation not permitted')), \
                self.assertRaises(SystemExit) as stop:
            run('--input', SMALL, '--steps', 2, '--samples', 0, '--save', path)
        tmp = re.search(r', see (\S+)$', str(stop.exception.code)).group(1)
        with open(tmp) as f:
            self.assertEqual(json.load(f)['config']['steps'], 2)  # the whole model, ready to load
        os.remove(tmp)


class TestInterrupt(unittest.TestCase):
    def start(self, *args):
        """microgpt.py as a command that Ctrl-C can stop; it is stopped for good when the test ends."""
        # A background job inherits SIGINT as ignored, and then Python installs no Ctrl-C handler: restore it
        self.folder = new_folder()
        proc = subprocess.Popen([sys.executable, SCRIPT, *map(str, args)], cwd=self.folder, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        def stop():
            proc.kill()
            proc.communicate()
        self.addCleanup(stop)
        return proc

    def wait_for(self, proc, start):
        for line in proc.stdout:
            if line.startswith(start):
                return line
        self.fail(f'never printed a line that starts with {start!r}: {proc.communicate()[1]}')

    def test_ctrl_c_stops_training_but_still_saves_validates_and_samples(self):
        proc = self.start('--input', SMALL, '--steps', 1000000, '--samples', 3, '--save', 'm.json')
        self.wait_for(proc, 'step')
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertRegex(out, r'interrupted after \d+ steps')
        self.assertRegex(out, r'\nval loss \d\.\d{4}')
        self.assertEqual(len(samples(out)), 3)
        self.assertNotIn('Traceback', err)

    def test_output_piped_into_head_stops_training_quietly_and_keeps_the_model(self):
        proc = self.start('--input', SMALL, '--steps', 500, '--samples', 3, '--save', 'm.json')
        self.wait_for(proc, 'step')
        proc.stdout.close()  # like `| head -2`: the reader goes away, and the next progress line has nowhere to go
        self.assertEqual(proc.wait(timeout=120), 0)
        self.assertEqual(proc.stderr.read(), '')  # no traceback
        with open(os.path.join(self.folder, 'm.json')) as f:
            self.assertEqual(json.load(f)['config']['steps'], 50)  # stopped at the progress line of step 50

    def test_a_second_ctrl_c_during_validation_cannot_lose_the_trained_model(self):
        proc = self.start('--input', NAMES, '--steps', 1000000, '--samples', 0, '--save', 'm.json')
        self.wait_for(proc, 'step')
        proc.send_signal(signal.SIGINT)
        steps = int(re.search(r'after (\d+) steps', self.wait_for(proc, 'interrupted')).group(1))
        time.sleep(0.5)  # saving takes a few milliseconds, validating 500 documents a few seconds
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        with open(os.path.join(self.folder, 'm.json')) as f:
            self.assertEqual(json.load(f)['config']['steps'], steps)


if __name__ == '__main__':
    unittest.main()


class TestBadInput(unittest.TestCase):
    """Every bad input: one line on stderr that says what is wrong, exit status 1, no traceback, no training."""
    @classmethod
    def setUpClass(cls):
        cls.folder = new_folder()
        def write(name, data):
            path = os.path.join(cls.folder, name)
            with open(path, 'wb') as f:
                f.write(data.encode('latin-1') if isinstance(data, str) else data)
            return path
        cls.model = os.path.join(cls.folder, 'model.json')
        run('--input', SMALL, '--steps', 1, '--samples', 0, '--save', cls.model)
        with open(cls.model) as f:
            good = f.read()
        def broken(old, new):  # the model with its first match of the pattern old replaced
            assert re.search(old, good), old
            return write(f'broken{len(os.listdir(cls.folder))}.json', re.sub(old, new, good, count=1).encode())
        cls.files = {
            'latin-1': write('latin1.txt', 'Zoë\nJosé\n'),
            'blank': write('blank.txt', b'\n   \n\r\n'),
            'capitals': write('capitals.txt', b'Anna\nBob\n'),
            'not json': write('notjson.json', b'hello'),
            'not a model': write('notmodel.json', b'{"config": [1, 2]}'),
            'nan weight': broken(r'"wte": \[\[[^,]*', '"wte": [[NaN'),  # the count is right: only the value is not
            'infinite weight': broken(r'"wte": \[\[[^,]*', '"wte": [[1e999'),
            'huge weight': broken(r'"wte": \[\[[^,]*', '"wte": [[1e300'),  # finite, but its square is not
            'no heads': broken('"n_head": 4', '"n_head": 0'),  # n_head does not change the count
            'infinite size': broken('"n_layer": 1', '"n_layer": 1e999'),
            'fractional size': broken('"n_embd": 16', '"n_embd": 16.5'),
            'huge size': broken('"n_embd": 16', '"n_embd": 100000000'),
            'fractional head count': broken('"n_head": 4', '"n_head": 4.0'),  # n_head does not change the count
            'vocabulary as a mapping': broken(r'"chars": \[[^\]]*\]', '"chars": {"a": 1, "b": 2}'),
            'one weight too many': broken(r'"wte": \[\[', '"wte": [[0.5, '),
            'deep json': write('deep.json', b'[' * 100000 + b']' * 100000),
            'text file': write('notes.txt', b'my notes\n'),
            'fifo': os.path.join(cls.folder, 'fifo'),
        }
        os.mkfifo(cls.files['fifo'])

    def assertCleanError(self, args, *phrases):
        result = cli(*args, cwd=self.folder, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        err = result.stderr.strip()
        self.assertEqual(len(err.splitlines()), 1, err)  # one line, no traceback
        self.assertTrue(err.startswith('microgpt: error: '), err)
        for phrase in phrases:
            self.assertIn(phrase, err)
        self.assertNotRegex(result.stdout, r'(?m)^step')  # stopped before any training

    def test_each_bad_setting_gets_one_clean_line(self):
        cases = [
            (['--n-embd', 10, '--n-head', 4], '--n-head must divide --n-embd'),
            (['--n-layer', 0], '--n-layer must be from 1'),
            (['--n-embd', -8], '--n-embd must be from 1'),
            (['--n-head', 0], '--n-head must be from 1'),
            (['--block-size', 0], '--block-size must be from 1'),
            (['--steps', -1], '--steps must be from 0'),
            (['--steps', '1' + '0' * 400], '--steps must be from 0 to 10**6'),
            (['--samples', -5], '--samples must be from 0'),
            (['--seed', -42], '--seed must be from 0'),
            (['--lr', -1], '--lr must be from'),
            (['--lr', 0], '--lr must be from'),
            (['--lr', 'nan'], '--lr must be from'),
            (['--lr', 'inf'], '--lr must be from'),
            (['--temperature', 0], '--temperature must be from'),
            (['--temperature', 1e-320], '--temperature must be from'),
            (['--temperature', 'nan'], '--temperature must be from'),
            (['--stpes', 5], 'unrecognized arguments: --stpes'),
            (['--steps', 'ten'], "invalid int value: 'ten'"),
        ]
        for args, *phrases in cases:
            with self.subTest(args=args):
                self.assertCleanError(['--input', SMALL, '--samples', 0] + args, *phrases)

    def test_each_bad_data_file_gets_one_clean_line(self):
        cases = [
            (['--input', 'no-such-file.txt'], "cannot read 'no-such-file.txt'", 'No such file'),
            (['--input', self.folder], 'cannot read', 'directory'),
            (['--input', self.files['latin-1']], 'not UTF-8'),
            (['--input', self.files['blank']], '--input', 'only blank lines'),
            (['--input', 'two\nlines.txt'], "'two\\nlines.txt'"),  # a newline in a path stays on one line
        ]
        for args, *phrases in cases:
            with self.subTest(args=args):
                self.assertCleanError(args + ['--samples', 0], *phrases)

    def test_each_bad_model_file_gets_one_clean_line(self):
        for name in ('not json', 'not a model', 'nan weight', 'infinite weight', 'huge weight', 'no heads',
                     'infinite size', 'fractional size', 'huge size', 'fractional head count',
                     'vocabulary as a mapping', 'one weight too many', 'deep json'):
            with self.subTest(name):
                self.assertCleanError(['--input', SMALL, '--load', self.files[name]], '--load', 'not a model')
        self.assertCleanError(['--load', 'no-such-model.json'], "cannot read 'no-such-model.json'", 'No such file')
        self.assertCleanError(['--input', self.files['capitals'], '--load', self.model, '--steps', 1], 'unknown to the model')

    def test_a_vocabulary_stored_as_a_mapping_is_read_as_its_characters(self):
        with open(self.model) as f:
            model = json.load(f)
        model['chars'] = {ch: i for i, ch in enumerate(model['chars'])}
        path = os.path.join(self.folder, 'mapping.json')
        with open(path, 'w') as f:
            json.dump(model, f)
        result = cli('--input', SMALL, '--load', path, '--steps', 1, '--samples', 1, cwd=self.folder)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_size_flags_are_refused_with_a_loaded_model(self):
        self.assertCleanError(['--input', SMALL, '--load', self.model, '--n-embd', 32], 'sizes')

    def test_no_file_but_a_model_is_ever_overwritten_and_a_bad_save_is_found_before_training(self):
        link = os.path.join(self.folder, 'same-data.txt')
        os.link(SMALL, link)  # the --input data under another name: the same file
        with open(SMALL, 'rb') as f:
            data = f.read()
        cases = [
            ([SMALL], 'not a model'),
            ([link], 'not a model'),
            ([self.files['text file']], 'not a model'),
            ([self.files['fifo']], 'not a model'),
            ([self.folder], 'not a model'),
            ([os.path.join(self.folder, 'no-such-dir', 'm.json')], 'No such file'),
            (['no-such-dir/'], 'No such file'),
            ([os.path.join(self.files['text file'], 'm.json')], 'Not a directory'),
            (['m' * 250 + '.json'], 'File name too long'),
        ]
        for (path,), phrase in cases:
            with self.subTest(path=path):
                self.assertCleanError(['--input', SMALL, '--save', path, '--samples', 0], 'cannot --save', phrase)
        with open(SMALL, 'rb') as f:
            self.assertEqual(f.read(), data)
        with open(self.files['text file'], 'rb') as f:
            self.assertEqual(f.read(), b'my notes\n')

    def test_the_highest_learning_rate_still_gives_numbers_not_a_crash(self):
        result = cli('--input', SMALL, '--lr', 1e6, '--steps', 10, '--samples', 3)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(samples(result.stdout)), 3)
        self.assertTrue(math.isfinite(val_loss(result.stdout)))


class TestPathsAndTerminals(unittest.TestCase):
    def test_help_works_in_a_folder_with_a_percent_sign(self):
        folder = os.path.join(new_folder(), '100% sure')
        os.mkdir(folder)
        with open(SCRIPT) as f, open(os.path.join(folder, 'microgpt.py'), 'w') as out:
            out.write(f.read())
        result = subprocess.run([sys.executable, os.path.join(folder, 'microgpt.py'), '--help'],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('--n-embd', result.stdout)

    def test_a_linked_script_finds_the_names_beside_the_real_one(self):
        link = os.path.join(new_folder(), 'gpt.py')
        os.symlink(SCRIPT, link)
        folder = new_folder()  # --save to a folder fails, but only after names.txt was read: a quick proof
        result = subprocess.run([sys.executable, link, '--save', folder], capture_output=True, text=True, cwd=folder)
        self.assertEqual(result.stderr, f"microgpt: error: cannot --save to {folder!r}: it is not a model\n")

    def test_it_runs_in_a_working_directory_that_was_deleted(self):
        folder = new_folder()
        result = subprocess.run([sys.executable, SCRIPT, '--input', SMALL, '--steps', '2', '--samples', '1'],
                                capture_output=True, text=True, cwd=folder, preexec_fn=lambda: os.rmdir(folder))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_character_the_terminal_cannot_show_is_no_crash(self):
        path = os.path.join(new_folder(), 'accents.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.write('zoé\nrené\nchloé\n' * 4)
        result = cli('--input', path, '--steps', 20, '--samples', 5, PYTHONIOENCODING='ascii')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(samples(result.stdout)), 5)
