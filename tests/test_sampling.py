"""Sampling, watched at each draw: random.choices is replaced by a stand-in that records the weights it is given and
picks the tokens the test chooses. Each draw must be from softmax(logits / T), the logits of the reference forward
pass (test_reference.py)."""
import os, re, unittest
from unittest import mock
from tests.helpers import TMP, model, run
from tests.test_reference import plain, reference_logits, softmax

TOL = 1e-12
TINY = os.path.join(TMP, 'tiny.txt')  # 9 documents: a tenth of them is none, so no validation, a quick run
with open(TINY, 'w') as f:
    f.write('abby\ncara\nbella\nada\ncecil\nbob\ndave\neve\nabe\n')


def sample(picks, *args):
    """Run microgpt on TINY (2 layers, untrained), its draws taken from picks; return (namespace, names, draws).
    draws: (population, weights) of each call of random.choices, in order."""
    draws, picks = [], iter(picks)

    def choices(population, weights=None, k=1):
        draws.append((list(population), list(weights)))
        return [next(picks)]
    with mock.patch('random.choices', choices):
        m, out = run('--input', TINY, '--n-layer', 2, '--steps', 0, *args)
    return m, re.findall(r'^sample +\d+: (\S*)', out, re.M), draws


class TestSampling(unittest.TestCase):
    def assertDrawsFromTheReference(self, m, names, draws, temperature):
        """Each draw's weights, normalized, are softmax(z / T) of the reference logits after the name so far."""
        W, i = plain(m), 0
        for name in names:
            tokens = [m.BOS] + m.encode(name)  # each name from BOS, as if it were the only one
            logits = reference_logits(W, tokens[:m.block_size], m.n_layer, m.n_head)
            for pos in range(min(len(tokens), m.block_size)):  # a draw a character, and one for the BOS that ends it
                population, weights = draws[i]
                i += 1
                self.assertEqual(population, list(range(m.vocab_size)))
                drawn = [w / sum(weights) for w in weights]  # random.choices draws in proportion to the weights
                expected = softmax([z / temperature for z in logits[pos]])
                self.assertLess(max(abs(a - b) for a, b in zip(drawn, expected)), TOL, f'{name!r}, position {pos}')
        self.assertEqual(i, len(draws))  # no draw left unchecked

    def test_each_draw_is_from_softmax_of_the_logits_over_the_temperature(self):
        first = {}  # the distribution of each temperature's first draw
        for temperature in (0.5, 2.0):  # T, sqrt(T) and T^2 differ here, unlike at T near 0 or 1
            with self.subTest(temperature=temperature):
                m, _, _ = sample([], '--samples', 0)
                picks = m.encode('abc') + [m.BOS] + m.encode('ea') + [m.BOS]
                m, names, draws = sample(picks, '--samples', 2, '--temperature', temperature)
                self.assertEqual(names, ['abc', 'ea'])
                self.assertEqual(len(draws), 4 + 3)
                self.assertDrawsFromTheReference(m, names, draws, temperature)
                first[temperature] = [w / sum(draws[0][1]) for w in draws[0][1]]
        self.assertGreater(max(a - b for a, b in zip(first[0.5], first[2.0])), 0.05)  # far apart: a test with teeth

    def test_every_name_starts_from_a_fresh_cache(self):
        m, _, _ = sample([], '--samples', 0)
        picks = (m.encode('bob') + [m.BOS]) * 3
        m, names, draws = sample(picks, '--samples', 3, '--temperature', 1.0)
        self.assertEqual(names, ['bob'] * 3)
        self.assertEqual(draws[0:4], draws[4:8])  # the same name, drawn from the same distributions each time
        self.assertEqual(draws[0:4], draws[8:12])
        self.assertDrawsFromTheReference(m, names, draws, 1.0)

    def test_a_name_that_never_draws_bos_has_exactly_block_size_characters(self):
        m, names, draws = sample([0] * 10, '--samples', 2, '--block-size', 5, '--temperature', 1.0)
        self.assertEqual(names, [m.chars[0] * 5] * 2)
        self.assertEqual(len(draws), 10)  # five draws a name: one for each position of the block
        self.assertDrawsFromTheReference(m, names, draws, 1.0)

    def test_no_graph_is_left_on_the_tape_after_validation_or_sampling(self):
        # Neither needs a backward: each must clear the tape itself, or every node it made stays in memory
        self.assertEqual(model().tape, [])  # the val loss of 30 held-out documents, and no sampling
        m, _, _ = sample([], '--samples', 0)
        m, names, _ = sample(m.encode('bob') + [m.BOS], '--samples', 1)
        self.assertEqual((names, m.tape), (['bob'], []))


if __name__ == '__main__':
    unittest.main()
