"""The model as a whole: its gradient, the invariants of its parts, the tokenizer, Adam and the training schedule.
(The forward pass is checked against a reference in test_reference.py.)"""
import math, os, random, subprocess, sys, unittest
from tests.helpers import SCRIPT, SMALL, SOURCE, TMP, mean_loss, model, run, weights

H, TOL = 1e-6, 1e-7  # the finite-difference step, and how close the analytic gradient must be


class TestWholeModelGradient(unittest.TestCase):
    def test_every_matrix_gradient_matches_finite_differences_at_two_layers(self):
        m = model('--n-layer', 2, '--n-embd', 8, '--n-head', 2, '--seed', 1)
        doc = 'isabella'
        loss = mean_loss(m, doc)
        loss.backward()
        rng = random.Random(0)
        checked = 0
        for name, mat in m.state_dict.items():
            # embedding rows are only used for the tokens and positions of the document: test those rows
            rows = {'wte': m.encode(doc) + [m.BOS], 'wpe': range(len(doc) + 1)}.get(name, range(len(mat)))
            for _ in range(2):
                p = mat[rng.choice(list(rows))][rng.randrange(len(mat[0]))]
                analytic, original = p.grad, p.data
                p.data = original + H
                up = mean_loss(m, doc).data
                p.data = original - H
                down = mean_loss(m, doc).data
                p.data = original
                with self.subTest(name):
                    self.assertAlmostEqual(analytic, (up - down) / (2 * H), delta=TOL)
                    self.assertNotEqual(analytic, 0.0)  # a live weight: a zero here would prove nothing
                checked += 1
        self.assertEqual(checked, 2 * (3 + 2 * 6))  # two from each of the 15 matrices

    def test_an_unused_embedding_row_gets_no_gradient(self):
        m = model()
        mean_loss(m, 'emma').backward()
        self.assertTrue(all(p.grad == 0.0 for p in m.state_dict['wte'][m.encode('z')[0]]))
        self.assertTrue(all(p.grad == 0.0 for p in m.state_dict['wpe'][5]))  # 'emma' uses positions 0 to 4


class TestParts(unittest.TestCase):
    m = model()

    def test_the_tokenizer_round_trips_every_document(self):
        m = self.m
        for doc in m.docs:
            ids = m.encode(doc)
            self.assertTrue(all(0 <= i < m.BOS for i in ids))  # BOS never stands for a character
            self.assertEqual(m.decode(ids), doc)
        self.assertEqual(m.vocab_size, len(m.chars) + 1)
        self.assertEqual(m.chars, sorted(set(''.join(m.docs))))

    def test_softmax_is_a_probability_distribution_even_for_huge_logits(self):
        for logits in ([1.0, 2.0, 3.0], [-5.0, 0.0, 5.0, 0.1], [1000.0, 999.0, -1000.0]):
            probs = self.m.softmax([self.m.Value(z) for z in logits])
            self.assertAlmostEqual(sum(p.data for p in probs), 1.0, delta=1e-12)
            self.assertTrue(all(p.data >= 0 for p in probs))
            self.assertAlmostEqual(probs[0].data / probs[1].data, math.exp(logits[0] - logits[1]), delta=1e-9)

    def test_rmsnorm_gives_unit_root_mean_square_and_keeps_the_direction(self):
        for xs in ([3.0, -4.0], [0.1] * 16, [i - 7.5 for i in range(16)]):
            out = self.m.rmsnorm([self.m.Value(x) for x in xs])
            rms, ms = math.sqrt(sum(o.data ** 2 for o in out) / len(out)), sum(x * x for x in xs) / len(xs)
            self.assertAlmostEqual(rms, 1.0, delta=1e-3)
            self.assertAlmostEqual(rms, math.sqrt(ms / (ms + 1e-5)), delta=1e-12)  # eps = 1e-5: a hair under 1
            self.assertAlmostEqual(out[0].data / out[1].data, xs[0] / xs[1], delta=1e-12)

    def test_cross_entropy_is_minus_log_softmax_and_its_gradient_is_p_minus_onehot_even_when_p_underflows(self):
        cases = [([0.5, -1.0, 2.0], target) for target in range(3)] + [
            ([0.0, 2000.0], 0),  # p = exp(-2000) is 0.0 in floats, and log(0) is no number
            ([0.0, 2000.0], 1),
            ([1000.0, 999.0, -1000.0], 2)]
        for logits, target in cases:
            with self.subTest(logits=logits, target=target):
                top = max(logits)
                total = sum(math.exp(z - top) for z in logits)
                p = [math.exp(z - top) / total for z in logits]
                zs = [self.m.Value(z) for z in logits]
                loss = self.m.cross_entropy(zs, target)
                self.assertAlmostEqual(loss.data, math.log(total) - (logits[target] - top), delta=1e-12)
                loss.backward()
                for i, z in enumerate(zs):
                    self.assertAlmostEqual(z.grad, p[i] - (i == target), delta=1e-15, msg=f'logit {i}')
        self.assertEqual(self.m.cross_entropy([self.m.Value(0.0), self.m.Value(2000.0)], 0).data, 2000.0)
        self.m.tape.clear()

    def test_state_dict_names_shapes_and_initial_spread(self):
        m = model('--n-layer', 2, '--n-embd', 8, '--n-head', 2, '--block-size', 12)
        shapes = {name: (len(mat), len(mat[0])) for name, mat in m.state_dict.items()}
        V = m.vocab_size
        expected = {'wte': (V, 8), 'wpe': (12, 8), 'lm_head': (V, 8)}
        for i in range(2):
            expected.update({f'layer{i}.attn_wq': (8, 8), f'layer{i}.attn_wk': (8, 8), f'layer{i}.attn_wv': (8, 8),
                             f'layer{i}.attn_wo': (8, 8), f'layer{i}.mlp_fc1': (32, 8), f'layer{i}.mlp_fc2': (8, 32)})
        self.assertEqual(shapes, expected)
        self.assertEqual(len(m.params), sum(r * c for r, c in expected.values()))
        std = math.sqrt(sum(x * x for x in weights(m)) / len(m.params))
        self.assertAlmostEqual(std, 0.08, delta=0.005)  # Gaussian, standard deviation 0.08


class TestAdam(unittest.TestCase):
    def test_three_steps_of_every_parameter_by_hand(self):
        # m = 0.85 m + 0.15 g, v = 0.99 v + 0.01 g^2, p -= lr_t (m / (1 - 0.85^t)) / (sqrt(v / (1 - 0.99^t)) + 1e-8)
        m = model()
        n, rng = len(m.params), random.Random(3)
        grads = [[rng.gauss(0, 1) * 10 ** rng.uniform(-4, 1) for _ in range(n)] for _ in range(3)]
        grads[1][0] = grads[2][0] = 0.0  # parameter 0: a gradient at the first step only
        for g in grads:
            g[1] = 0.0  # parameter 1: never a gradient
        expected, moments, squares = weights(m), [0.0] * n, [0.0] * n
        history = [weights(m)]
        for t, (g, lr_t) in enumerate(zip(grads, (0.01, 0.006, 0.002)), start=1):
            for p, grad in zip(m.params, g):
                p.grad = grad
            m.adam_step(lr_t, t)
            for i in range(n):
                moments[i] = 0.85 * moments[i] + 0.15 * g[i]
                squares[i] = 0.99 * squares[i] + 0.01 * g[i] ** 2
                m_hat, v_hat = moments[i] / (1 - 0.85 ** t), squares[i] / (1 - 0.99 ** t)
                expected[i] -= lr_t * m_hat / (math.sqrt(v_hat) + 1e-8)
            self.assertLess(max(abs(a - b) for a, b in zip(weights(m), expected)), 1e-15, f'step {t}')
            self.assertEqual([p.grad for p in m.params], [0.0] * n)  # the gradients are reset for the next step
            history.append(weights(m))
        # At the first step m_hat = g and v_hat = g^2: each weight moves by lr against sign(g), whatever g's size
        # (lr g / (|g| + eps): eps shows only for a g near 1e-8)
        for before, after, g in zip(history[0][2:], history[1][2:], grads[0][2:]):
            self.assertAlmostEqual(after - before, -0.01 * g / (abs(g) + 1e-8), delta=1e-15)
        # A zero gradient still moves a weight that had one before: its running mean m is not 0
        self.assertTrue(history[0][0] != history[1][0] != history[2][0] != history[3][0])
        self.assertEqual(history[0][1], history[3][1])  # no gradient ever, no moment: no move


class TestTrainingSchedule(unittest.TestCase):
    def test_each_step_takes_the_next_document_and_the_learning_rate_decays_linearly(self):
        # Step 3 of a 3-step run, redone by hand from the state after 2 steps of it: the third training document,
        # at the rate lr * (1 - 2/3). The first two steps are those of any run of 3 steps or more.
        args = ('--input', SMALL, '--steps', 3, '--samples', 0, '--lr', 0.02, '--n-embd', 8)
        three, two = run(*args)[0], run(*args, source=self.stop_after(2))[0]
        self.assertEqual(len(two.losses), 2)
        loss = mean_loss(two, two.train_docs[2])
        loss.backward()
        two.adam_step(0.02 * (1 - 2 / 3), 3)
        self.assertEqual(weights(two), weights(three))
        self.assertEqual(loss.data, three.losses[2])

    @staticmethod
    def stop_after(n):
        """microgpt.py, changed to train only the first n of its steps (the schedule still counts all of them)."""
        line = 'for step in range(steps):\n'
        assert SOURCE.count(line) == 1
        return SOURCE.replace(line, f'for step in range({n}):\n')


# In a fresh process: microgpt.py run as a script (its output a pipe), then the most memory the process ever held, in kB
# The peak memory of this process alone, in kB: VmHWM starts anew with the program (ru_maxrss would start from the
# test runner's own peak, which hides any growth smaller than it)
PEAK_MEMORY = '''import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
print('peak:', next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))'''


@unittest.skipUnless(os.path.exists('/proc/self/status'), 'reads the peak memory from /proc (Linux)')
class TestMemory(unittest.TestCase):
    def test_training_frees_each_step_s_graph(self):
        # Nothing may keep a step's graph alive: not the tape, nor a switched-off collector where there is no
        # reference counting (PyPy: 1.9 GB after 800 steps of the default model when gc.disable() ran there too)
        path = os.path.join(TMP, 'nine.txt')  # no held-out documents: training alone
        with open(path, 'w') as f:
            f.write('abby\ncara\nbella\nada\ncecil\nbob\ndave\neve\nabe\n')
        peaks = []
        for steps in (20, 200):
            out = subprocess.run([sys.executable, '-c', PEAK_MEMORY, SCRIPT, '--input', path, '--n-embd', '8',
                                  '--n-head', '2', '--steps', str(steps), '--samples', '0'],
                                 capture_output=True, text=True, timeout=120).stdout
            peaks.append(int(out.split('peak: ')[1]))
        self.assertLess(peaks[1] - peaks[0], 30_000)  # 180 more steps: not 30 MB more


if __name__ == '__main__':
    unittest.main()
