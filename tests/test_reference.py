"""A second forward pass, in plain floats and written the way the math is: the whole sequence at once, with an explicit
causal mask. microgpt computes one position at a time through its KV cache; both must give the same logits and losses.
It needs nothing but Python, so it checks the forward pass wherever the tests run (test_torch is a second witness)."""
import functools, math, random, unittest
from tests.helpers import model

TOL = 1e-12


# The reference GPT: X is the sequence, a row per position; W is a matrix of shape [out][in], so a layer is X W^T
def matmul(X, W): return [[sum(x * w for x, w in zip(row, w_row)) for w_row in W] for row in X]  # X W^T
def plus(X, Y): return [[a + b for a, b in zip(x, y)] for x, y in zip(X, Y)]
def rms_norm(X): return [[a / math.sqrt(sum(b * b for b in row) / len(row) + 1e-5) for a in row] for row in X]
def relu(X): return [[max(0.0, a) for a in row] for row in X]


def softmax(z):
    top = max(z)
    e = [math.exp(a - top) for a in z]  # exp(-inf) = 0: a masked position gets no weight
    total = sum(e)
    return [a / total for a in e]


def reference_logits(W, tokens, n_layer, n_head):
    """The logits at every position of tokens: [T][vocab_size]. W: the weights by name, as lists of floats."""
    T, C = len(tokens), len(W['wte'][0])
    d = C // n_head  # head_dim
    mask = [[s <= t for s in range(T)] for t in range(T)]  # position t sees positions 0..t
    X = rms_norm([[a + b for a, b in zip(W['wte'][token], W['wpe'][t])] for t, token in enumerate(tokens)])
    for i in range(n_layer):
        H = rms_norm(X)
        Q, K, V = (matmul(H, W[f'layer{i}.attn_w{c}']) for c in 'qkv')
        heads = []  # each [T][d]: softmax(Q_h K_h^T / sqrt(d) + mask) V_h
        for h in range(n_head):
            Qh, Kh, Vh = ([row[h * d:(h + 1) * d] for row in M] for M in (Q, K, V))
            S = [[sum(a * b for a, b in zip(Qh[t], Kh[s])) / math.sqrt(d) if mask[t][s] else -math.inf
                  for s in range(T)] for t in range(T)]
            A = [softmax(row) for row in S]
            heads.append([[sum(A[t][s] * Vh[s][j] for s in range(T)) for j in range(d)] for t in range(T)])
        concat = [[a for h in range(n_head) for a in heads[h][t]] for t in range(T)]  # head 0's channels first
        X = plus(X, matmul(concat, W[f'layer{i}.attn_wo']))
        X = plus(X, matmul(relu(matmul(rms_norm(X), W[f'layer{i}.mlp_fc1'])), W[f'layer{i}.mlp_fc2']))
    return matmul(X, W['lm_head'])


def reference_loss(logits, target):  # -log softmax(logits)[target]
    top = max(logits)
    return top + math.log(sum(math.exp(z - top) for z in logits)) - logits[target]


def plain(m):
    """A model's weights by name, as plain floats."""
    return {name: [[p.data for p in row] for row in mat] for name, mat in m.state_dict.items()}


def cached_logits(m, tokens):
    """microgpt's logits at every position, fed one token at a time through a fresh KV cache per layer."""
    keys, values = [[] for _ in range(m.n_layer)], [[] for _ in range(m.n_layer)]
    return [[z.data for z in m.gpt(token, pos, keys, values)] for pos, token in enumerate(tokens)]


@functools.lru_cache(maxsize=None)
def two_layers():
    """A 2-layer model with weights far from the tiny first ones: attention that picks, units that switch off."""
    m = model('--n-layer', 2)
    rng = random.Random(11)
    for p in m.params:
        p.data = rng.gauss(0, 0.3)
    return m


class TestReferenceForwardPass(unittest.TestCase):
    m = None

    def setUp(self):
        self.m = two_layers()
        self.doc = 'maximilianoalex'  # 15 characters: [BOS] + doc + [BOS] fills the whole block, 16 predictions
        self.tokens = [self.m.BOS] + self.m.encode(self.doc) + [self.m.BOS]
        self.assertEqual((self.m.n_layer, self.m.block_size, len(self.tokens)), (2, 16, 17))

    def close(self, ours, theirs, what):
        self.assertEqual(len(ours), len(theirs), what)
        self.assertLess(max(abs(a - b) for a, b in zip(ours, theirs)), TOL, what)

    def test_the_logits_at_every_position_of_a_full_block_match(self):
        m = self.m
        expected = reference_logits(plain(m), self.tokens[:-1], m.n_layer, m.n_head)
        ours = cached_logits(m, self.tokens[:-1])
        self.assertEqual(len(ours), m.block_size)
        for pos in range(m.block_size):
            self.close(ours[pos], expected[pos], f'position {pos}')
        # the model is not degenerate: the positions and tokens give different scores
        self.assertGreater(max(abs(a - b) for a, b in zip(expected[3], expected[9])), 0.1)

    def test_each_loss_of_doc_losses_is_that_of_the_next_token_seen_only_after_what_came_before(self):
        # Position t predicts token t+1 from tokens 0..t alone: the reference sees only that prefix
        m, W = self.m, plain(self.m)
        losses = [loss.data for loss in m.doc_losses(self.doc)]
        self.assertEqual(len(losses), 16)
        for t in range(16):
            prefix = self.tokens[:t + 1]
            expected = reference_loss(reference_logits(W, prefix, m.n_layer, m.n_head)[t], self.tokens[t + 1])
            self.assertAlmostEqual(losses[t], expected, delta=TOL, msg=f'position {t}')
        mean = sum(m.doc_losses(self.doc)) / 16
        self.assertAlmostEqual(mean.data, sum(losses) / 16, delta=TOL)
        m.tape.clear()

    def test_a_document_longer_than_the_block_is_cut_to_its_first_predictions(self):
        m = self.m
        doc = self.doc + 'ander'  # 20 characters: 21 predictions, cut to the block's 16
        tokens = [m.BOS] + m.encode(doc)
        logits = reference_logits(plain(m), tokens[:16], m.n_layer, m.n_head)
        losses = [loss.data for loss in m.doc_losses(doc)]
        self.assertEqual(len(losses), 16)
        self.close(losses, [reference_loss(logits[t], tokens[t + 1]) for t in range(16)], 'losses')
        m.tape.clear()

    def test_a_change_in_a_document_moves_no_loss_before_it(self):
        # Through doc_losses, the training path: changing character k (token k+1) changes the target of position k,
        # and the inputs after it; the losses of positions 0..k-1 stay the same to the last bit
        m, k = self.m, 6
        changed = self.doc[:k] + ('z' if self.doc[k] != 'z' else 'y') + self.doc[k + 1:]
        a, b = ([loss.data for loss in m.doc_losses(doc)] for doc in (self.doc, changed))
        m.tape.clear()
        self.assertEqual(a[:k], b[:k])
        for t in range(k, 16):
            self.assertNotEqual(a[t], b[t], f'position {t}')

    def test_the_reference_itself_is_causal_and_uses_every_layer(self):
        # The witness is checked too: its mask hides the future, and the second layer changes the logits
        m, W = self.m, plain(self.m)
        full = reference_logits(W, self.tokens[:-1], 2, m.n_head)
        self.assertEqual(reference_logits(W, self.tokens[:8], 2, m.n_head), full[:8])
        one = reference_logits(W, self.tokens[:-1], 1, m.n_head)
        self.assertGreater(max(abs(a - b) for a, b in zip(one[5], full[5])), 0.01)


if __name__ == '__main__':
    unittest.main()
