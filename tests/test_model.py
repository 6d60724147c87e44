"""The model as a whole: its gradient, the invariants of its parts, the tokenizer, Adam and the training schedule."""
import math, random, unittest
from tests.helpers import SMALL, all_logits, mean_loss, model, run, weights

H, TOL = 1e-6, 1e-7  # the finite-difference step, and how close the analytic gradient must be


class TestWholeModelGradient(unittest.TestCase):
    def test_every_matrix_gradient_matches_finite_differences_at_two_layers(self):
        m = model('--n-layer', 2, '--seed', 1)
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
            rms = math.sqrt(sum(o.data ** 2 for o in out) / len(out))
            self.assertAlmostEqual(rms, 1.0, delta=1e-3)  # eps = 1e-5 keeps it a hair under 1
            self.assertAlmostEqual(out[0].data / out[1].data, xs[0] / xs[1], delta=1e-12)

    def test_cross_entropy_is_minus_log_softmax_even_when_p_underflows(self):
        Value, logits = self.m.Value, [0.5, -1.0, 2.0]
        for target in range(3):
            expected = -math.log(math.exp(logits[target]) / sum(math.exp(z) for z in logits))
            self.assertAlmostEqual(self.m.cross_entropy([Value(z) for z in logits], target).data, expected, delta=1e-12)
        huge = self.m.cross_entropy([Value(0.0), Value(2000.0)], 0).data  # p = exp(-2000) is 0.0 in floats
        self.assertAlmostEqual(huge, 2000.0, delta=1e-9)

    def test_attention_is_causal(self):
        # the logits at a position never depend on the tokens that come after it
        a, b = all_logits(self.m, 'anna'), all_logits(self.m, 'anne')
        self.assertEqual(a[:4], b[:4])
        self.assertNotEqual(a[4], b[4])

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
    def test_the_first_two_steps_by_hand(self):
        m = model()
        a, b, c = m.params[:3]
        a0, b0, c0 = a.data, b.data, c.data
        lr = 0.01
        # Step 1: m_hat = g and v_hat = g^2 after bias correction, so each weight moves by lr against sign(g),
        # however large or small g is: the hallmark of Adam
        a.grad, b.grad = 3.0, -1e-3
        m.adam_step(0, lr)
        self.assertAlmostEqual(a.data, a0 - lr * 3.0 / (3.0 + 1e-8), delta=1e-15)
        self.assertAlmostEqual(b.data, b0 + lr * 1e-3 / (1e-3 + 1e-8), delta=1e-15)
        self.assertEqual(c.data, c0)  # no gradient, no moment: no move
        self.assertEqual((a.grad, b.grad), (0.0, 0.0))  # the gradients are reset for the next step
        # Step 2: m = 0.85 m + 0.15 g, v = 0.99 v + 0.01 g^2, each corrected by 1 - beta^2
        a1 = a.data
        a.grad = 1.0
        m.adam_step(1, lr)
        m1, v1 = 0.85 * (0.15 * 3.0) + 0.15 * 1.0, 0.99 * (0.01 * 9.0) + 0.01 * 1.0
        self.assertAlmostEqual(a.data, a1 - lr * (m1 / (1 - 0.85 ** 2)) / (math.sqrt(v1 / (1 - 0.99 ** 2)) + 1e-8),
                               delta=1e-15)


class TestTrainingSchedule(unittest.TestCase):
    def test_each_step_takes_the_next_document_and_the_learning_rate_decays_linearly(self):
        # Step 3 of a 3-step run, redone by hand from the state after 2 steps of it: the third training document,
        # at the rate lr * (1 - 2/3). The first two steps are those of any run of 3 steps or more.
        three = run('--input', SMALL, '--steps', 3, '--samples', 0, '--lr', 0.02)[0]
        two = run('--input', SMALL, '--steps', 3, '--samples', 0, '--lr', 0.02, source=self.stop_after(2))[0]
        loss = mean_loss(two, two.train_docs[2])
        loss.backward()
        two.adam_step(2, 0.02 * (1 - 2 / 3))
        self.assertEqual(weights(two), weights(three))

    @staticmethod
    def stop_after(n):
        """microgpt.py, changed to train only the first n of its steps (the schedule still counts all of them)."""
        from tests.helpers import SOURCE
        line = '    for step in range(steps):\n'
        assert SOURCE.count(line) == 1
        return SOURCE.replace(line, f'    for step in range({n}):\n')


if __name__ == '__main__':
    unittest.main()
