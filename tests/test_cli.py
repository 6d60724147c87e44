"""microgpt.py driven as users drive it: its command line, its output, its files, its errors and its stops.

A test marked BUG shows a guarantee that microgpt.py does not keep yet: it is an expected failure until it is fixed."""
import concurrent.futures, copy, functools, json, math, os, random, re, signal, statistics, subprocess, sys
import threading, time, unittest
from unittest import mock
from tests.helpers import (NAMES, SCRIPT, SMALL, all_logits, cli, clis, default_stop_signals, new_folder,
                           progress_steps, run, samples, settings_block, val_loss, write)

SETTINGS = settings_block()
INPUT = next(name for name, _, _ in SETTINGS if name.startswith('input'))  # the data's setting (--input)
FLAG = {name: '--' + name.replace('_', '-') for name, _, _ in SETTINGS}
MARK = '  (in the training set)'
TINY = ('--n-embd', 4, '--n-head', 1)  # a quick model, for the tests where its size does not matter


def read_json(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def write_json(path, data, **options):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, **options)
    return path


@functools.lru_cache(maxsize=None)
def trained():
    """A 2-layer model trained 110 steps on the small dataset and saved: (its names, its output, its file).
    Shared by the tests that only look at it."""
    path = os.path.join(new_folder(), 'model.json')
    try:
        m, out = run('--input', SMALL, '--n-layer', 2, '--n-embd', 4, '--n-head', 2, '--steps', 110,
                     '--samples', 0, '--seed', 3, '--save', path)
    except SystemExit as stop:  # as an error of the tests that need it, not an exit of the whole test run
        raise AssertionError(f'the shared model could not be made: {stop.code}') from None
    return m, out, path


@functools.lru_cache(maxsize=None)
def help_output():
    """What `microgpt.py --help` prints, on a terminal wide enough that no help is wrapped."""
    return cli('--help', COLUMNS='300')


def attempt(args, cwd=None):
    """Run microgpt.py with these flags, and stop it as soon as it trains, validates or samples (bad input must
    not get that far): (exit status, stdout, stderr, whether it got that far)."""
    proc = subprocess.Popen([sys.executable, SCRIPT, *map(str, args)], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(120, proc.kill)  # a run that hangs is stopped, and then fails
    timer.start()
    try:
        out, ran = [], False
        for line in proc.stdout:
            out.append(line)
            if re.match(r'(step|val loss|sample) ', line):
                ran = True
                proc.kill()
                break
        rest, err = proc.communicate()
        return proc.returncode, ''.join(out) + rest, err, ran
    finally:
        timer.cancel()


def attempts(arg_lists, cwd=None):
    """attempt() for each list of flags, side by side (each is a separate process)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda args: attempt(args, cwd), arg_lists))


class WentOn(Exception):
    """Bad input got as far as training, validating, sampling, or making a million weights."""


def in_process_attempt(args, cwd):
    """attempt(), made quick: in this process, where a refusal by sys.exit('microgpt: error: ...') shows as
    SystemExit (which, as a command, prints its one line to stderr and exits with status 1). For any other way
    out: None (then the command itself must be run, to see what a user sees)."""
    made, real_print, real_gauss, here = [], print, random.gauss, os.getcwd()
    def guarded_print(*args, **kwargs):
        if re.match(r'(step|val loss|sample) ', ' '.join(map(str, args))):
            raise WentOn(args)
        real_print(*args, **kwargs)
    def guarded_gauss(*args):
        made.append(1)
        if len(made) > 10**6:
            raise WentOn('a million weights')
        return real_gauss(*args)
    os.chdir(cwd)
    try:
        with mock.patch('builtins.print', guarded_print), mock.patch('random.gauss', guarded_gauss):
            run(*args)
    except SystemExit as stop:
        if isinstance(stop.code, str):
            return 1, '', stop.code + '\n', False
    except WentOn:
        return 0, '', '', True
    except Exception:
        pass
    finally:
        os.chdir(here)
    return None


def quick_attempts(arg_lists, cwd):
    """attempt() for each list of flags: in this process where that shows what the command would do."""
    results = [in_process_attempt(args, cwd) for args in arg_lists]
    rest = [args for args, result in zip(arg_lists, results) if result is None]
    commands = iter(attempts(rest, cwd))
    return [next(commands) if result is None else result for result in results]


class RefusalAssertions:
    def assertRefused(self, result, *patterns):
        """Bad input: exit status 1, one line on stderr that starts 'microgpt: error: ', no traceback, and no
        training (nor validation, nor samples). Each pattern (a regex) must be found in that line."""
        status, out, err, ran = result
        self.assertFalse(ran, f'it went on with bad input:\n{out}{err}')
        self.assertEqual(status, 1, err)
        self.assertNotIn('Traceback', err)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith('microgpt: error: '), err)
        for pattern in patterns:
            self.assertRegex(err, pattern)


class TestOutput(unittest.TestCase):
    def test_a_run_tells_its_story_in_the_documented_forms(self):
        result = cli('--input', SMALL, '--steps', 20, '--samples', 5)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, '')
        lines = result.stdout.splitlines()
        self.assertEqual(lines[:3], ['documents: 270 train, 30 val', 'vocabulary: 27', 'parameters: 4192'])
        progress = lines[3:14]  # step 1, then every tenth of the way: steps 2, 4, ..., 20
        self.assertEqual(progress_steps('\n'.join(progress)), [1] + list(range(2, 21, 2)))
        self.assertRegex(progress[0], r'^step    1 / 20 \| loss \d\.\d{4}$')  # the first: no timing yet
        for line in progress[1:]:
            self.assertRegex(line, r'^step +\d+ / 20 \| loss \d\.\d{4} \| \d+\.\d ms/step \| \d+ s left$')
        self.assertRegex(progress[-1], r'^step   20 / 20 .* \| 0 s left$')
        self.assertRegex(lines[14], r'^val loss \d\.\d{4} \| per token, 30 held-out docs$')
        self.assertEqual(len(lines), 20)  # and nothing else but the 5 samples
        for i, line in enumerate(lines[15:], start=1):
            self.assertRegex(line, rf'^sample {i:2d}: [a-z]*({re.escape(MARK)})?$')

    def test_progress_shows_the_first_step_about_every_tenth_and_always_the_last(self):
        for steps in (1, 25):
            with self.subTest(steps=steps):
                shown = progress_steps(run('--input', SMALL, '--steps', steps, '--samples', 0, *TINY)[1])
                self.assertEqual((shown[0], shown[-1]), (1, steps))  # 25 is no multiple of a tenth: shown
                self.assertEqual(shown, sorted(set(shown)))
                self.assertLessEqual(max(b - a for a, b in zip([0] + shown, shown)), math.ceil(steps / 10))
                self.assertGreaterEqual(len(shown), min(steps, 10))

    def test_the_progress_loss_is_the_mean_training_loss_of_the_last_100_steps(self):
        m, out, _ = trained()
        shown = re.findall(r'^step +(\d+) / 110 \| loss (\d\.\d{4})', out, re.M)
        self.assertEqual(len(m.losses), 110)
        self.assertEqual(shown[-1][0], '110')
        for step, loss in shown:  # the last line's mean leaves out the first 10 steps, the slowest to learn
            self.assertAlmostEqual(float(loss), statistics.fmean(m.losses[max(0, int(step) - 100):int(step)]),
                                   delta=5.1e-5)

    def test_the_val_loss_is_the_mean_loss_per_token_on_the_held_out_documents(self):
        m, out, _ = trained()
        token_losses = [loss.data for doc in m.val_docs for loss in m.doc_losses(doc)]
        self.assertEqual(len(m.val_docs), 30)
        self.assertAlmostEqual(val_loss(out), sum(token_losses) / len(token_losses), delta=5.1e-5)

    def test_a_sample_that_is_a_training_document_is_marked_and_no_other(self):
        m = trained()[0]
        val_doc, train_doc, new = m.val_docs[0], m.train_docs[0], 'zzq'
        self.assertNotIn(new, m.docs)
        picks = iter(m.encode(val_doc) + [m.BOS] + m.encode(train_doc) + [m.BOS] + m.encode(new) + [m.BOS])
        with mock.patch('random.choices', lambda *args, **kwargs: [next(picks)]):  # the sampler's draws
            out = run('--input', SMALL, '--steps', 0, '--samples', 3, *TINY)[1]
        self.assertEqual(samples(out), [val_doc, train_doc + MARK, new])  # a held-out name is no copy


class TestSettings(unittest.TestCase):
    def test_the_settings_are_plain_names_at_the_top_with_a_comment_each(self):
        names = [name for name, _, _ in SETTINGS]
        self.assertEqual(names[1:], 'steps n_layer n_embd n_head block_size lr seed samples temperature save '
                                    'load'.split())
        self.assertEqual(INPUT, names[0])
        m = trained()[0]
        for name, default, comment in SETTINGS:
            self.assertEqual(type(getattr(m, name)), type(default), name)  # a module-level name of that type
            self.assertTrue(comment.strip(), name)

    def test_every_setting_is_a_flag(self):
        folder = new_folder()
        first, second = os.path.join(folder, 'first.json'), os.path.join(folder, 'second.json')
        values = {INPUT: SMALL, 'steps': 2, 'n_layer': 2, 'n_embd': 4, 'n_head': 2, 'block_size': 12, 'lr': 0.02,
                  'seed': 5, 'samples': 1, 'temperature': 0.7, 'save': first}
        m = run(*[x for name, value in values.items() for x in (FLAG[name], value)])[0]
        for name, value in values.items():
            self.assertEqual(getattr(m, name), value, name)
        self.assertEqual(len(m.state_dict['wpe']), 12)  # the sizes are used
        self.assertEqual(len(m.state_dict), 3 + 6 * 2)
        m = run('--load', first, '--save', second, '--steps', 1, '--samples', 0)[0]
        self.assertEqual((m.load, m.save, m.steps), (first, second, 1))

    def test_help_lists_every_flag(self):
        result = help_output()
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        options = set(re.findall(r'(?<![\w-])--?[a-z][\w-]*', result.stdout.split('options:')[-1]))
        self.assertEqual(options, {'-h', '--help'} | set(FLAG.values()))
        self.assertIn('--n-embd N_EMBD', result.stdout)

    def test_the_default_input_is_the_names_txt_beside_the_script_from_any_folder_even_through_a_link(self):
        decoys = new_folder()  # a folder of one's own, with a names.txt of one's own, and a link to the script
        write(os.path.join(decoys, 'names.txt'), 'zed\nzoe\n')
        os.symlink(SCRIPT, os.path.join(decoys, 'gpt.py'))
        for script in (SCRIPT, os.path.join(decoys, 'gpt.py')):
            with self.subTest(script=script):
                proc = subprocess.Popen([sys.executable, script, '--steps', '1', '--samples', '0'],
                                        cwd=decoys, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, 'PYTHONUNBUFFERED': '1'})
                try:
                    first = proc.stdout.readline()
                finally:
                    proc.kill()
                    proc.communicate()
                self.assertEqual(first, 'documents: 28994 train, 500 val\n')  # names.txt: 29,494 distinct names


class TestBadInput(RefusalAssertions, unittest.TestCase):
    """Every bad input: one line on stderr that says what is wrong, exit status 1, no traceback, no training."""
    @classmethod
    def setUpClass(cls):
        cls.folder = folder = new_folder()
        cls.model = trained()[2]  # 2 layers, n_embd 4, n_head 2, block_size 16, on the small dataset
        good = read_json(cls.model)

        def variant(name, change):
            data = copy.deepcopy(good)
            change(data)
            return write_json(os.path.join(folder, name + '.json'), data)
        def set_weight(value):
            return lambda data: data['state_dict']['wte'][0].__setitem__(0, value)
        def set_setting(name, value):
            return lambda data: data['settings'].__setitem__(name, value)
        def delete(*keys):
            return lambda data: (data['settings'] if len(keys) > 1 else data).pop(keys[-1])
        huge = dict(settings={'n_layer': 1, 'n_embd': 10**6, 'n_head': 1, 'block_size': 1, INPUT: SMALL},
                    chars=['a'], state_dict={'wte': [[0.5]]})  # 12 * 10**12 weights, it claims, in 166 bytes
        cls.files = {
            'not json': write(os.path.join(folder, 'notjson.json'), 'hello'),
            'deep json': write(os.path.join(folder, 'deep.json'), '[' * 100000 + ']' * 100000),
            'json, not a model': write(os.path.join(folder, 'list.json'), '{"settings": [1, 2]}'),
            'no settings': variant('nosettings', delete('settings')),
            'no state_dict': variant('nostate', delete('state_dict')),
            'no n_head': variant('nohead', delete('settings', 'n_head')),
            'no data path': variant('noinput', delete('settings', INPUT)),
            'data path not text': variant('listinput', set_setting(INPUT, [SMALL])),
            'data path with a NUL': variant('nulinput', set_setting(INPUT, SMALL + '\0')),  # open() says ValueError
            'nan weight': variant('nan', set_weight(float('nan'))),
            'infinite weight': variant('inf', set_weight(float('inf'))),
            'huge weight': variant('1e300', set_weight(1e300)),  # finite, but its square is not
            'text weight': variant('text', set_weight('0.5')),
            'fractional size': variant('fraction', set_setting('n_embd', 4.5)),
            'size as text': variant('string', set_setting('n_embd', '4')),
            'no heads': variant('noheads', set_setting('n_head', 0)),
            'a row too few': variant('shortwpe', lambda data: data['state_dict']['wpe'].pop()),
            'a weight too many': variant('longrow', lambda data: data['state_dict']['lm_head'][0].append(0.5)),
            'a matrix missing': variant('renamed', lambda data: data['state_dict'].update(
                wtx=data['state_dict'].pop('wte'))),
            'enormous sizes': write(os.path.join(folder, 'huge.json'), json.dumps(huge, separators=(',', ':'))),
        }
        cls.capitals = write(os.path.join(folder, 'capitals.txt'), 'ABCDEFGHIJKLM\nNOPQRSTUVWXYZ\n')  # 26 others
        cls.text = write(os.path.join(folder, 'notes.txt'), 'my notes\n')
        cls.latin1 = write(os.path.join(folder, 'latin1.txt'), 'Zoë\nJosé\n'.encode('latin-1'))
        cls.blank = write(os.path.join(folder, 'blank.txt'), '\n   \n\r\n')
        cls.empty = write(os.path.join(folder, 'empty.txt'), '')
        cls.fifo = os.path.join(folder, 'fifo')
        os.mkfifo(cls.fifo)
        cls.link = os.path.join(folder, 'link.json')
        os.symlink(cls.text, cls.link)  # a link to a file that is not a model
        cls.dangling = os.path.join(folder, 'dangling.json')
        os.symlink(os.path.join(folder, 'nowhere.json'), cls.dangling)
        cls.same_data = os.path.join(folder, 'same-data.txt')
        os.link(SMALL, cls.same_data)  # the --input data under another name

    def check(self, cases, common=()):
        """Each case: (flags, patterns that its error line must match)."""
        results = quick_attempts([list(common) + list(args) for args, *_ in cases], self.folder)
        for (args, *patterns), result in zip(cases, results):
            with self.subTest(args=args):
                self.assertRefused(result, *patterns)

    def test_as_a_command_a_refusal_is_one_line_on_stderr_with_exit_status_1(self):
        cases = [(['--stpes', 5], 'stpes'), (['--n-embd', 10], 'n_head'), (['--load', self.files['nan weight']],
                 '--load'), (['--input', SMALL, '--save', self.text], '--save')]  # and test_bad_data_files
        for (args, pattern), result in zip(cases, attempts([args for args, _ in cases], cwd=self.folder)):
            with self.subTest(args=args):
                self.assertRefused(result, pattern)

    def test_bad_settings(self):
        self.check([
            (['--stpes', 5], 'unrecognized arguments: --stpes'),
            (['--steps', 'ten'], "invalid int value: 'ten'"),
            (['--n-embd', '16.5'], "invalid int value: '16.5'"),
            (['--lr', 'fast'], "invalid float value: 'fast'"),
            (['--n-embd', 10, '--n-head', 4], 'n_head must divide n_embd'),
            (['--n-layer', 0], 'n_layer'),
            (['--n-embd', 0], 'n_embd'),
            (['--n-embd', -8], 'n_embd'),
            (['--n-head', 0], 'n_head'),
            (['--block-size', 0], 'block_size'),
            (['--steps', -5], 'steps'),  # not a silent run of no steps that saves an untrained model
            (['--samples', -3], 'samples'),
            (['--lr', 0], 'lr'),
            (['--lr', -0.01], 'lr'),
            (['--temperature', 0], 'temperature'),
            (['--lr', 'nan'], 'lr'),
            (['--temperature', 'nan'], 'temperature'),
            (['--lr', 'inf'], 'lr'),
            (['--temperature', 'inf'], 'temperature'),
            (['--lr', 1e7], 'lr'),  # the limit is 10**6
            (['--temperature', 1e7], 'temperature'),
            (['--n-embd', 1000000], '10\\*\\*7'),  # 12 * 10**12 weights
            (['--n-layer', 1000, '--n-embd', 32], '10\\*\\*7'),
            (['--block-size', 10**7], 'block_size|10\\*\\*7'),
        ], common=['--input', SMALL, '--samples', 0, '--steps', 1])

    def test_bad_data_files(self):
        cases = [
            (['--input', 'no-such-file.txt'], 'no-such-file.txt', 'No such file'),
            (['--input', self.folder], 'directory'),
            (['--input', os.path.join(self.text, 'x.txt')], 'Not a directory'),  # a path through a file
            (['--input', self.latin1], '(?i)utf-?8'),
            (['--input', self.blank], 'blank.txt', 'no documents'),
            (['--input', self.empty], 'empty.txt', 'no documents'),
            (['--input', 'two\nlines.txt'], r"two\\nlines\.txt"),  # a newline in a name stays on the one line
        ]
        unreadable = write(os.path.join(self.folder, 'unreadable.txt'), 'anna\n')
        os.chmod(unreadable, 0)
        if not os.access(unreadable, os.R_OK):  # the superuser reads it all the same
            cases.append((['--input', unreadable], 'unreadable.txt', 'Permission denied'))
        self.check(cases, common=['--samples', 0, '--steps', 1])

    def test_a_byte_order_mark_is_not_a_character_of_the_data(self):
        path = write(os.path.join(self.folder, 'bom.txt'), '\ufeffanna\nbob\n')  # as some editors save UTF-8
        m = run('--input', path, '--steps', 0, '--samples', 0)[0]
        self.assertEqual((m.docs, m.chars), (['anna', 'bob'], ['a', 'b', 'n', 'o']))

    def test_bad_model_files(self):
        patterns = {'no heads': '--load|n_head', 'enormous sizes': r'--load|10\*\*7'}  # a file, or its sizes
        cases = [(['--load', path], patterns.get(name, '--load')) for name, path in self.files.items()]
        cases += [(['--load', 'no-such-model.json'], 'no-such-model.json')]
        self.check(cases, common=['--samples', 1, '--steps', 1])

    def test_a_loaded_model_with_data_of_other_characters_is_refused(self):
        self.check([(['--input', self.capitals], '--load|character')],  # as many characters, but others
                   common=['--load', self.model, '--samples', 1, '--steps', 1])

    def test_a_model_file_without_its_characters_is_refused(self):
        data = read_json(self.model)
        del data['chars']
        path = write_json(os.path.join(self.folder, 'nochars.json'), data)
        self.check([(['--load', path, '--samples', 1], '--load')])

    def test_a_save_target_that_is_not_a_model_is_refused_before_training_and_left_as_it_was(self):
        with open(SMALL, 'rb') as f:
            data = f.read()
        self.check([
            ([self.text], '--save'),
            ([SMALL], '--save'),  # the data itself
            ([self.same_data], '--save'),
            ([self.folder], '--save'),
            ([self.fifo], '--save'),
            ([self.link], '--save'),
            ([self.dangling], '--save'),
            ([os.path.join(self.folder, 'no-such-folder', 'm.json')], 'No such file'),
            (['no-such-folder/m.json'], 'No such file'),
        ], common=['--input', SMALL, *TINY, '--samples', 0, '--steps', 1, '--save'])
        with open(SMALL, 'rb') as f:
            self.assertEqual(f.read(), data)
        with open(self.text, 'rb') as f:
            self.assertEqual(f.read(), b'my notes\n')
        self.assertEqual(os.readlink(self.link), self.text)
        self.assertFalse(os.path.lexists(os.path.join(self.folder, 'nowhere.json')))

    def test_a_model_of_over_10_to_the_7_weights_is_refused_before_any_weight_is_made(self):
        cases = [['--input', SMALL, '--n-embd', 1000000], ['--load', self.files['enormous sizes']]]
        for args in cases:
            with self.subTest(args=args), mock.patch('random.gauss', side_effect=AssertionError('a weight made')):
                with self.assertRaises(SystemExit) as refused:
                    run(*args, '--samples', 0)
                self.assertRegex(str(refused.exception.code), r'^microgpt: error: [^\n]*$')

class TestSave(unittest.TestCase):
    def test_the_file_is_json_of_the_settings_the_characters_and_the_weights_by_name(self):
        m, _, path = trained()
        saved = read_json(path)
        self.assertEqual(set(saved), {'settings', 'chars', 'state_dict'})
        self.assertEqual(saved['settings'], {name: getattr(m, name) for name, _, _ in SETTINGS})  # as run...
        self.assertEqual(saved['settings']['steps'], 110)  # ... with the steps it trained
        self.assertEqual(saved['chars'], m.chars)
        self.assertEqual(saved['state_dict'], {name: [[p.data for p in row] for row in mat]
                                               for name, mat in m.state_dict.items()})

    def test_a_save_replaces_a_model_and_leaves_no_other_file(self):
        folder = new_folder()
        path = os.path.join(folder, 'm.json')
        for seed in (1, 2):
            run('--input', SMALL, '--steps', 1, '--samples', 0, '--save', path, '--seed', seed, *TINY)
            self.assertEqual(os.listdir(folder), ['m.json'])
            self.assertEqual(read_json(path)['settings']['seed'], seed)

    def test_each_save_writes_a_new_file_of_an_unguessable_name_beside_the_target_then_renames_it(self):
        folder = new_folder()
        path, renamed, real = os.path.join(folder, 'm.json'), [], os.replace
        def replace(src, dst):
            renamed.append((src, dst))
            real(src, dst)
        with mock.patch('os.replace', replace):
            for _ in range(2):
                run('--input', SMALL, '--steps', 1, '--samples', 0, '--save', path, *TINY)
        self.assertGreaterEqual(len(renamed), 2)  # at least once a run, when training ends
        self.assertEqual(len({src for src, _ in renamed}), len(renamed))  # a new name each time
        for src, dst in renamed:
            self.assertEqual(os.path.dirname(os.path.abspath(src)), folder)  # beside it: a rename, not a copy
            self.assertEqual(os.path.abspath(dst), path)

    def test_a_link_planted_at_the_temporary_name_is_not_followed(self):
        folder = new_folder()
        path, victim, sources, real = os.path.join(folder, 'm.json'), os.path.join(folder, 'victim'), [], os.replace
        write(victim, 'precious\n')
        def replace(src, dst):
            sources.append(src)
            real(src, dst)
        with mock.patch('os.urandom', lambda n: bytes(n)), mock.patch('os.replace', replace):  # names foreseen
            run('--input', SMALL, '--steps', 0, '--samples', 0, '--save', path, *TINY)
            os.symlink(victim, sources[0])  # planted where the next save would write, if it were guessed
            try:
                run('--input', SMALL, '--steps', 0, '--samples', 0, '--save', path, *TINY)
            except (OSError, SystemExit):
                pass  # refusing is fine; writing through the link is not
        with open(victim) as f:
            self.assertEqual(f.read(), 'precious\n')

    def test_resaving_a_loaded_model_without_training_keeps_its_record(self):
        _, _, path = trained()
        again = os.path.join(new_folder(), 'again.json')
        run('--load', path, '--save', again, '--samples', 0)
        self.assertEqual(read_json(again), read_json(path))  # steps, seed, load, ...: as recorded

    def test_training_a_loaded_model_further_starts_from_it_and_records_this_run(self):
        _, _, path = trained()
        more = os.path.join(new_folder(), 'more.json')
        start = run('--load', path, '--steps', 0, '--samples', 0)[0]
        m = run('--load', path, '--steps', 3, '--lr', 1e-6, '--seed', 9, '--save', more, '--samples', 0)[0]
        moved = max(abs(a.data - b.data) for a, b in zip(start.params, m.params))
        self.assertLess(moved, 1e-5)  # 3 steps of about lr each, from the loaded weights
        made = read_json(more)['settings']
        before = read_json(path)['settings']
        self.assertEqual((made['steps'], made['load'], made['seed'], made['lr']), (3, path, 9, 1e-6))
        self.assertEqual([made[k] for k in ('n_layer', 'n_embd', 'n_head', 'block_size', INPUT)],
                         [before[k] for k in ('n_layer', 'n_embd', 'n_head', 'block_size', INPUT)])


class TestLoad(unittest.TestCase):
    def test_save_then_load_gives_bit_identical_logits_and_only_samples(self):
        m, _, path = trained()
        loaded, out = run('--load', path, '--samples', 3)  # no --input: the data recorded in the file
        self.assertEqual(all_logits(loaded, 'kate'), all_logits(m, 'kate'))  # JSON keeps every float
        self.assertEqual((loaded.n_layer, loaded.n_embd, loaded.n_head), (2, 4, 2))
        self.assertEqual(progress_steps(out), [])  # --load without --steps: no training ...
        self.assertNotIn('val loss', out)  # ... and no validation: it only samples
        self.assertEqual(len(samples(out)), 3)

    def test_weights_are_loaded_by_name_whatever_their_order_in_the_file(self):
        m, _, path = trained()
        data, folder = read_json(path), new_folder()
        reordered = dict(data, state_dict=dict(reversed(list(data['state_dict'].items()))))
        swapped = copy.deepcopy(data)
        sd = swapped['state_dict']
        sd['wte'], sd['lm_head'] = sd['lm_head'], sd['wte']  # two matrices of the same shape, names swapped
        files = {'sorted': write_json(os.path.join(folder, 'sorted.json'), data, sort_keys=True),
                 'reordered': write_json(os.path.join(folder, 'reordered.json'), reordered),
                 'swapped': write_json(os.path.join(folder, 'swapped.json'), swapped)}
        logits = {name: all_logits(run('--load', file, '--samples', 0)[0], 'kate') for name, file in files.items()}
        self.assertEqual(logits['sorted'], all_logits(m, 'kate'))
        self.assertEqual(logits['reordered'], all_logits(m, 'kate'))
        self.assertNotEqual(logits['swapped'], all_logits(m, 'kate'))  # by name: another model

    def test_a_model_of_one_s_own_data_file_samples_and_trains_on_it_from_another_folder(self):
        here, elsewhere = new_folder(), new_folder()
        with open(NAMES) as f:
            own = write(os.path.join(here, 'own.txt'), ''.join(f.readlines()[1000:1100]))
        made = cli('--input', 'own.txt', '--steps', 2, '--samples', 0, '--save', 'own.json', *TINY, cwd=here)
        self.assertEqual(made.returncode, 0, made.stderr)  # a relative --input, as one types it
        path = os.path.join(here, 'own.json')
        sampled, more = clis([['--load', path, '--samples', 3],
                              ['--load', path, '--steps', 5, '--samples', 0, '--save', 'more.json']], cwd=elsewhere)
        self.assertEqual(sampled.returncode, 0, sampled.stderr)
        self.assertTrue(sampled.stdout.startswith('documents: 90 train, 10 val\n'), sampled.stdout)  # own.txt
        self.assertEqual((progress_steps(sampled.stdout), len(samples(sampled.stdout))), ([], 3))
        self.assertEqual(more.returncode, 0, more.stderr)
        self.assertTrue(more.stdout.startswith('documents: 90 train, 10 val\n'), more.stdout)
        self.assertEqual(progress_steps(more.stdout)[-1], 5)
        made = read_json(os.path.join(elsewhere, 'more.json'))['settings']
        self.assertEqual((made['steps'], os.path.samefile(made[INPUT], own)), (5, True))
        self.assertTrue(os.path.samefile(os.path.join(elsewhere, made['load']), path))


def start(cleanup, *args, cwd, **options):
    """microgpt.py as a command that signals can stop; cleanup(f) is given the function that stops it for good."""
    options.setdefault('preexec_fn', default_stop_signals)
    proc = subprocess.Popen([sys.executable, SCRIPT, *map(str, args)], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)
    timer = threading.Timer(120, proc.kill)  # a child that hangs is stopped, and its test fails
    timer.start()
    def finish():
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    cleanup(finish)
    return proc


def wait_for(stream, start):
    """Read lines up to one that starts with start; return the lines read."""
    lines = []
    for line in stream:
        lines.append(line)
        if line.startswith(start):
            return ''.join(lines)
    raise AssertionError(f'never printed a line that starts with {start!r}: {"".join(lines)}')


class TestStopping(unittest.TestCase):
    """Ctrl-C, kill, hangup and a closed output, sent to microgpt.py as a command."""
    def start(self, *args, cwd, **options):
        """microgpt.py as a command that signals can stop; it is stopped for good when the test ends."""
        return start(self.addCleanup, *args, cwd=cwd, **options)

    def wait_for(self, stream, start):
        return wait_for(stream, start)

    def saved_steps(self, path):
        return read_json(path)['settings']['steps']

    @classmethod
    @functools.lru_cache(maxsize=None)
    def stopped_runs(cls, signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):
        """For each signal: a run of 100,000 steps (progress lines at steps 1, 10000, ...) that gets it during
        training, after some steps; (signal, exit status, stdout, stderr, folder), once each has ended."""
        runs = []
        for sig in signals:
            folder = new_folder()
            proc = start(cls.addClassCleanup, '--input', SMALL, '--steps', 100000, '--samples', 3, '--save',
                         'm.json', *TINY, cwd=folder)
            runs.append((sig, proc, folder, wait_for(proc.stdout, 'step')))
        time.sleep(0.2)  # well into training, far from the next progress line
        for sig, proc, _, _ in runs:
            proc.send_signal(sig)
        results = []
        for sig, proc, folder, first in runs:
            out, err = proc.communicate(timeout=120)
            results.append((sig, proc.returncode, first + out, err, folder))
        return results

    def test_ctrl_c_kill_and_hangup_end_training_after_the_step_then_save_validate_and_sample(self):
        for sig, status, out, err, folder in self.stopped_runs():
            with self.subTest(signal=sig.name):
                self.assertEqual((status, err), (0, ''))  # no traceback
                steps = self.saved_steps(os.path.join(folder, 'm.json'))
                self.assertGreater(steps, 1)
                self.assertLess(steps, 10000)
                before_val = out[:out.index('\nval loss')].splitlines()
                self.assertEqual(progress_steps(out), [1] + [steps] * (before_val[-1].startswith('step')))
                self.assertRegex(before_val[-1], rf'\b{steps}\b')  # the output says how many steps were done
                self.assertRegex(out, r'\nval loss \d\.\d{4} \| per token, 30 held-out docs\n')
                self.assertEqual(len(samples(out)), 3)
                self.assertEqual(os.listdir(folder), ['m.json'])  # and no temporary file left

    def test_ctrl_c_on_a_run_piped_into_tee_keeps_the_trained_model(self):
        folder = new_folder()
        def join_group(leader):  # a process group of the pipeline's own, as a shell makes, where Ctrl-C works
            def preexec():
                os.setpgid(0, leader)
                default_stop_signals()
            return preexec
        gpt = self.start('--input', SMALL, '--steps', 100000, '--samples', 3, '--save', 'm.json', *TINY, cwd=folder,
                         preexec_fn=join_group(0))
        tee = subprocess.Popen(['tee', 'log'], cwd=folder, stdin=gpt.stdout, stdout=subprocess.PIPE,
                               preexec_fn=join_group(gpt.pid), text=True)
        gpt.stdout.close()  # tee's now
        def kill_group():
            try:
                os.killpg(gpt.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            tee.communicate()
        self.addCleanup(kill_group)
        self.wait_for(tee.stdout, 'step')
        time.sleep(0.2)
        os.killpg(gpt.pid, signal.SIGINT)  # Ctrl-C: to the whole pipeline, so tee is gone at once
        err = gpt.stderr.read()
        gpt.wait(timeout=120)
        self.assertEqual(err, '')  # no traceback
        self.assertGreater(self.saved_steps(os.path.join(folder, 'm.json')), 1)  # what was trained, kept
        self.assertEqual(sorted(os.listdir(folder)), ['log', 'm.json'])  # and no temporary file left

    def test_a_closed_output_stops_training_at_the_next_progress_line_and_keeps_the_model(self):
        folder = new_folder()
        proc = self.start('--input', SMALL, '--steps', 500, '--samples', 3, '--save', 'm.json', *TINY, cwd=folder)
        self.wait_for(proc.stdout, 'step')
        proc.stdout.close()  # like `| head -2`: the reader goes away, the next progress line has nowhere to go
        proc.wait(timeout=120)
        self.assertEqual(proc.stderr.read(), '')  # no traceback
        steps = self.saved_steps(os.path.join(folder, 'm.json'))
        self.assertIn(steps - steps % 50, range(50, 500, 50))  # at a progress line (every 50 steps) ...
        self.assertLessEqual(steps % 50, 1)  # ... or the step after it
        self.assertEqual(os.listdir(folder), ['m.json'])

    def test_a_second_ctrl_c_during_validation_ends_the_run_quietly_and_the_model_is_kept(self):
        folder = new_folder()  # names.txt: 500 held-out names, which take a second or more to validate
        proc = self.start('--steps', 1000000, '--samples', 1000, '--save', 'm.json', cwd=folder)
        self.wait_for(proc.stdout, 'step')
        time.sleep(0.2)  # well into training, far from the next progress line (step 100000)
        proc.send_signal(signal.SIGINT)
        report = proc.stdout.readline()  # the line that says where training stopped: it has saved by then
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        self.assertEqual((proc.returncode, err), (130, ''))
        self.assertNotIn('val loss', out)
        self.assertEqual(samples(out), [])
        steps = self.saved_steps(os.path.join(folder, 'm.json'))
        self.assertGreater(steps, 1)
        self.assertRegex(report, rf'\b{steps}\b')
        self.assertEqual(os.listdir(folder), ['m.json'])

    def test_ctrl_c_during_sampling_ends_the_run_quietly(self):
        proc = self.start('--input', SMALL, '--steps', 1, '--samples', 1000000, *TINY, cwd=new_folder())
        self.wait_for(proc.stdout, 'sample')
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        self.assertEqual((proc.returncode, err), (130, ''))


class TestEnvironments(unittest.TestCase):
    def test_a_deep_model_and_a_deep_graph_train_without_recursion_errors(self):
        folder = new_folder()
        deep = write(os.path.join(folder, 'deep.txt'), 'abcdefghijklmnopqrstuvwxyz\n')
        # 1,500 characters: the loss sums over 1,501 logits, a chain of additions deeper than Python's stack
        wide = write(os.path.join(folder, 'wide.txt'), ''.join(chr(0x4e00 + i) for i in range(1500)) + '\n')
        cases = [['--input', deep, '--n-layer', 8, '--n-embd', 8, '--n-head', 2, '--block-size', 32],
                 ['--input', wide, '--n-embd', 2, '--n-head', 1, '--block-size', 2]]
        for args, result in zip(cases, clis([args + ['--steps', 1, '--samples', 1] for args in cases])):
            with self.subTest(args=args):
                self.assertEqual((result.returncode, result.stderr), (0, ''))
                self.assertEqual(progress_steps(result.stdout), [1])
                self.assertEqual(len(samples(result.stdout)), 1)

    def test_it_runs_in_a_working_directory_that_was_deleted(self):
        folder, keep = new_folder(), os.path.join(new_folder(), 'm.json')
        result = subprocess.run([sys.executable, SCRIPT, '--input', SMALL, '--steps', '2', '--samples', '1',
                                 '--save', keep, *map(str, TINY)], capture_output=True, text=True, cwd=folder,
                                preexec_fn=lambda: os.rmdir(folder))
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertFalse(os.path.exists(folder))
        self.assertEqual(read_json(keep)['settings']['steps'], 2)

    def test_a_character_the_terminal_cannot_show_is_no_crash(self):
        path = write(os.path.join(new_folder(), 'accents.txt'), ''.join('é' * n + '\n' for n in range(1, 13)))
        result = cli('--input', path, '--steps', 0, '--samples', 20, *TINY, PYTHONIOENCODING='ascii')
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        names = samples(result.stdout)
        self.assertEqual(len(names), 20)
        self.assertTrue(any(names))
        self.assertTrue(all(set(name.replace(MARK, '')) <= {'?'} for name in names), names)  # é shown as ?

    def test_help_works_in_a_folder_with_a_percent_sign(self):
        folder = os.path.join(new_folder(), 'sure, 100%')  # so that the script's path has '%/' in it
        os.mkdir(folder)
        with open(SCRIPT) as f:
            script = write(os.path.join(folder, 'microgpt.py'), f.read())
        result = subprocess.run([sys.executable, script, '--help'], capture_output=True, text=True, cwd=folder)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertIn('--n-embd', result.stdout)


if __name__ == '__main__':
    unittest.main()
