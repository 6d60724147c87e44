"""The model, as a whole: its gradient, its parts' invariants, the tokenizer and Adam."""
import math, random, unittest
from tests.helpers import all_logits, mean_loss, model

H, TOL = 1e-6, 1e-7  # finite-difference step, and how close the analytic gradient must be


class TestWholeModelGradient(unittest.TestCase):
    def test_every_matrix_gradient_matches_finite_differences_at_two_layers(self):
        ns = model('--n-layer', 2, '--seed', 1)
        doc = 'isabella'
        loss = mean_loss(ns, doc)
        loss.backward()
        rng = random.Random(0)
        tokens = ns['encode'](doc)
        checked = 0
        for name, mat in ns['state_dict'].items():
            # embedding rows are only used for the tokens and positions in the document; test those rows
            rows = {'wte': tokens + [ns['BOS']], 'wpe': range(len(doc) + 1)}.get(name, range(len(mat)))
            for _ in range(3):
                p = mat[rng.choice(list(rows))][rng.randrange(len(mat[0]))]
                analytic, original = p.grad, p.data
                p.data = original + H
                up = mean_loss(ns, doc).data
                p.data = original - H
                down = mean_loss(ns, doc).data
                p.data = original
                with self.subTest(name):
                    self.assertAlmostEqual(analytic, (up - down) / (2 * H), delta=TOL)
                    self.assertNotEqual(analytic, 0.0)  # a live parameter: a zero here would prove nothing
                checked += 1
        self.assertEqual(checked, 3 * (3 + 2 * 6))  # three from each of the 15 matrices

    def test_an_unused_embedding_row_gets_no_gradient(self):
        ns = model()
        loss = mean_loss(ns, 'emma')
        loss.backward()
        unused = ns['encode']('z')[0]
        self.assertTrue(all(p.grad == 0.0 for p in ns['state_dict']['wte'][unused]))
        self.assertTrue(all(p.grad == 0.0 for p in ns['state_dict']['wpe'][5]))  # 'emma' uses positions 0..4


class TestParts(unittest.TestCase):
    ns = model()

    def test_tokenizer_round_trips_every_document(self):
        ns = self.ns
        for doc in ns['docs']:
            ids = ns['encode'](doc)
            self.assertTrue(all(0 <= i < ns['BOS'] for i in ids))  # BOS never stands for a character
            self.assertEqual(ns['decode'](ids), doc)
        self.assertEqual(ns['vocab_size'], len(ns['chars']) + 1)
        self.assertEqual(ns['chars'], sorted(set(''.join(ns['docs']))))

    def test_softmax_is_a_probability_distribution_even_for_huge_logits(self):
        Value = self.ns['Value']
        for logits in ([1.0, 2.0, 3.0], [-5.0, 0.0, 5.0, 0.1], [1000.0, 999.0, -1000.0]):
            probs = self.ns['softmax']([Value(z) for z in logits])
            self.assertAlmostEqual(sum(p.data for p in probs), 1.0, delta=1e-12)
            self.assertTrue(all(p.data >= 0 for p in probs))
            self.assertAlmostEqual(probs[0].data / probs[1].data, math.exp(logits[0] - logits[1]), delta=1e-9)

    def test_rmsnorm_output_has_unit_root_mean_square(self):
        Value = self.ns['Value']
        for xs in ([3.0, -4.0], [0.1] * 16, [i - 7.5 for i in range(16)]):
            out = self.ns['rmsnorm']([Value(x) for x in xs])
            rms = math.sqrt(sum(o.data ** 2 for o in out) / len(out))
            self.assertAlmostEqual(rms, 1.0, delta=1e-3)  # eps = 1e-5 keeps it a hair under 1
            self.assertAlmostEqual(out[0].data / out[1].data, xs[0] / xs[1], delta=1e-12)  # direction kept

    def test_cross_entropy_is_minus_log_softmax(self):
        ns = self.ns
        Value = ns['Value']
        logits = [0.5, -1.0, 2.0]
        for target in range(3):
            expected = -math.log(math.exp(logits[target]) / sum(math.exp(z) for z in logits))
            self.assertAlmostEqual(ns['cross_entropy']([Value(z) for z in logits], target).data, expected, delta=1e-12)
        huge = ns['cross_entropy']([Value(0.0), Value(2000.0)], 0).data  # p = exp(-2000) underflows, loss does not
        self.assertAlmostEqual(huge, 2000.0, delta=1e-9)

    def test_an_untrained_model_is_close_to_uniform(self):
        ns = self.ns  # at the start, every token is about equally likely: loss ~ ln(vocab_size)
        self.assertAlmostEqual(mean_loss(ns, 'olivia').data, math.log(ns['vocab_size']), delta=0.15)

    def test_attention_is_causal(self):
        # the logits at a position never depend on tokens that come after it
        a, b = all_logits(self.ns, 'anna'), all_logits(self.ns, 'anne')
        self.assertEqual(a[:4], b[:4])
        self.assertNotEqual(a[4], b[4])

    def test_state_dict_shapes_and_names(self):
        ns = model('--n-layer', 2, '--n-embd', 8, '--n-head', 2, '--block-size', 12)
        shapes = {name: (len(mat), len(mat[0])) for name, mat in ns['state_dict'].items()}
        v = ns['vocab_size']
        expected = {'wte': (v, 8), 'wpe': (12, 8), 'lm_head': (v, 8)}
        for i in range(2):
            expected.update({f'layer{i}.attn_wq': (8, 8), f'layer{i}.attn_wk': (8, 8), f'layer{i}.attn_wv': (8, 8),
                             f'layer{i}.attn_wo': (8, 8), f'layer{i}.mlp_fc1': (32, 8), f'layer{i}.mlp_fc2': (8, 32)})
        self.assertEqual(shapes, expected)
        self.assertEqual(len(ns['params']), sum(r * c for r, c in expected.values()))
        data = [p.data for p in ns['params']]
        std = math.sqrt(sum(x * x for x in data) / len(data))
        self.assertAlmostEqual(std, 0.08, delta=0.005)  # Gaussian init, std 0.08


class TestAdam(unittest.TestCase):
    def test_first_steps_by_hand(self):
        ns = model()
        params, adam_step = ns['params'], ns['adam_step']
        a, b, c = params[0], params[1], params[2]
        a0, b0, c0 = a.data, b.data, c.data
        lr = 0.01
        # Step 1: m_hat = g and v_hat = g^2 after bias correction, so each weight moves by lr against sign(g),
        # however large or small g is: the hallmark of Adam
        a.grad, b.grad = 3.0, -1e-3
        adam_step(0, lr)
        self.assertAlmostEqual(a.data, a0 - lr * 3.0 / (3.0 + 1e-8), delta=1e-15)
        self.assertAlmostEqual(b.data, b0 + lr * 1e-3 / (1e-3 + 1e-8), delta=1e-15)
        self.assertEqual(c.data, c0)  # no gradient, no moment: no move
        self.assertEqual((a.grad, b.grad), (0.0, 0.0))  # gradients are reset for the next step
        # Step 2, by hand: m = 0.85 m + 0.15 g, v = 0.99 v + 0.01 g^2, corrected by 1 - beta^2
        a1 = a.data
        a.grad = 1.0
        adam_step(1, lr)
        m = 0.85 * (0.15 * 3.0) + 0.15 * 1.0
        v = 0.99 * (0.01 * 9.0) + 0.01 * 1.0
        m_hat, v_hat = m / (1 - 0.85 ** 2), v / (1 - 0.99 ** 2)
        self.assertAlmostEqual(a.data, a1 - lr * m_hat / (math.sqrt(v_hat) + 1e-8), delta=1e-15)


if __name__ == '__main__':
    unittest.main()
