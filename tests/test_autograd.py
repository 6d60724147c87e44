"""The autograd engine: every operation's value and gradient against central finite differences, and the tape."""
import math, sys, unittest
from tests.helpers import model

m = model()
Value, dot = m.Value, m.dot
H, TOL = 1e-6, 1e-7  # the finite-difference step, and how close the analytic gradient must be


# Each operation written once, for Values and for plain floats alike
def log(x): return x.log() if isinstance(x, Value) else math.log(x)
def exp(x): return x.exp() if isinstance(x, Value) else math.exp(x)
def relu(x): return x.relu() if isinstance(x, Value) else max(0.0, x)
def inner(ws, xs): return dot(ws, xs) if isinstance(ws[0], Value) else sum(w * x for w, x in zip(ws, xs))


def numeric_grad(f, point, i):
    """d f / d x_i by central differences, (f(x + h) - f(x - h)) / 2h, on plain floats."""
    up, down = list(point), list(point)
    up[i] += H
    down[i] -= H
    return (f(*up) - f(*down)) / (2 * H)


class TestOperations(unittest.TestCase):
    # Each case: a function written once, run on Values and on plain floats, and the point to check it at
    CASES = [
        ('a + b', lambda a, b: a + b, (1.5, -2.0)),
        ('a + 2', lambda a: a + 2, (1.5,)),
        ('2 + a', lambda a: 2 + a, (1.5,)),
        ('a - b', lambda a, b: a - b, (1.5, -2.0)),
        ('a - 1', lambda a: a - 1, (1.5,)),
        ('1 - a', lambda a: 1 - a, (1.5,)),
        ('-a', lambda a: -a, (1.5,)),
        ('a * b', lambda a, b: a * b, (1.5, -2.0)),
        ('a * 2', lambda a: a * 2, (1.5,)),
        ('2 * a', lambda a: 2 * a, (1.5,)),
        ('a / b', lambda a, b: a / b, (1.5, -2.0)),
        ('a / 2', lambda a: a / 2, (1.5,)),
        ('1 / a', lambda a: 1 / a, (1.5,)),
        ('3 / a at a < 0', lambda a: 3 / a, (-0.7,)),
        ('a ** 1', lambda a: a ** 1, (1.5,)),
        ('a ** 2 at a < 0', lambda a: a ** 2, (-1.5,)),
        ('a ** 3 at a < 0', lambda a: a ** 3, (-1.5,)),
        ('a ** -1 at a < 0', lambda a: a ** -1, (-1.5,)),
        ('a ** -2 at a < 0', lambda a: a ** -2, (-1.5,)),
        ('a ** 3', lambda a: a ** 3, (1.5,)),
        ('a ** 0.5', lambda a: a ** 0.5, (1.5,)),
        ('a ** -0.5', lambda a: a ** -0.5, (1.5,)),
        ('a ** 2.5', lambda a: a ** 2.5, (0.6,)),
        ('log a', lambda a: log(a), (1.5,)),
        ('exp a', lambda a: exp(a), (-0.7,)),
        ('relu a at a > 0', lambda a: relu(a), (1.5,)),
        ('relu a at a < 0', lambda a: relu(a), (-1.5,)),
        ('sum', lambda a, b, c: sum([a, b, c]), (1.5, -2.0, 0.3)),
        ('dot', lambda a, b, c, d: inner([a, b], [c, d]), (1.5, -2.0, 0.3, 0.9)),
        ('dot(x, x)', lambda a, b: inner([a, b], [a, b]), (1.5, -2.0)),
        ('a used twice', lambda a, b: a * b + a, (1.5, -2.0)),
        ('composite', lambda a, b: relu(a * b + 1) * exp(a / b) - log(a * a) + (1 - a) ** 2 / (2 * b), (0.8, 1.7)),
    ]

    def test_value_and_gradient_match_finite_differences(self):
        for name, f, point in self.CASES:
            with self.subTest(name):
                xs = [Value(x) for x in point]
                out = f(*xs)
                self.assertIsInstance(out, Value)
                self.assertAlmostEqual(out.data, f(*point), delta=1e-12)
                out.backward()
                for i, x in enumerate(xs):
                    self.assertAlmostEqual(x.grad, numeric_grad(f, point, i), delta=TOL, msg=f'input {i}')

    def test_softmax_rmsnorm_and_cross_entropy_match_finite_differences(self):
        # Whole functions of the model, each reduced to one number: a weighted sum of its outputs
        def plain_softmax(z):
            e = [math.exp(a - max(z)) for a in z]
            return [a / sum(e) for a in e]
        point = (0.3, -1.2, 2.0, 0.7)
        cases = [
            ('softmax', lambda *z: m.softmax(list(z)), plain_softmax),
            ('rmsnorm', lambda *x: m.rmsnorm(list(x)),
             lambda x: [a / math.sqrt(sum(b * b for b in x) / len(x) + 1e-5) for a in x]),
            ('cross_entropy', lambda *z: [m.cross_entropy(list(z), 2)], lambda z: [-math.log(plain_softmax(z)[2])]),
        ]
        for name, ours, plain in cases:
            with self.subTest(name):
                xs = [Value(x) for x in point]
                outs = ours(*xs)
                for a, b in zip([o.data for o in outs], plain(point)):
                    self.assertAlmostEqual(a, b, delta=1e-12)
                total = sum(o * (j + 1) for j, o in enumerate(outs))
                total.backward()
                f = lambda *x: sum(o * (j + 1) for j, o in enumerate(plain(x)))
                for i, x in enumerate(xs):
                    self.assertAlmostEqual(x.grad, numeric_grad(f, point, i), delta=TOL, msg=f'input {i}')

    def test_a_shared_node_passes_its_gradient_back_after_all_its_uses(self):
        a = Value(2.0)
        b = a * a  # used by two later nodes: its gradient is complete only after both have added to it
        out = b * 3 + b.exp()
        out.backward()
        self.assertAlmostEqual(a.grad, (3 + math.exp(4.0)) * 2 * 2.0, delta=1e-9)


class TestTape(unittest.TestCase):
    def test_a_chain_of_ten_thousand_operations_needs_no_recursion(self):
        limit = sys.getrecursionlimit()
        x = Value(1.0)
        y = x
        for _ in range(10_000):
            y = y * 1.0001
        self.assertGreater(10_000, limit)
        y.backward()
        self.assertAlmostEqual(x.grad, 1.0001 ** 10_000, delta=1e-9)
        self.assertEqual(sys.getrecursionlimit(), limit)  # and it did not just raise the limit

    def test_the_tape_records_each_computed_node_in_order_and_backward_empties_it(self):
        m.tape.clear()
        a, b = Value(1.5), Value(-2.0)
        self.assertEqual(m.tape, [])  # leaves (weights, inputs) are not on it
        c = a * b
        d = c + a
        self.assertEqual(m.tape, [c, d])
        d.backward()
        self.assertEqual(m.tape, [])
        self.assertEqual((a.grad, b.grad), (-2.0 + 1.0, 1.5))

    def test_a_graph_built_earlier_does_not_disturb_a_backward(self):
        m.tape.clear()
        a, b = Value(0.5), Value(3.0)
        other = (a * b).exp() * a + b  # built first, never used: its nodes are on the tape too
        x = Value(0.8)
        y = x * x * b + x.log()
        y.backward()
        self.assertAlmostEqual(x.grad, 2 * 0.8 * 3.0 + 1 / 0.8, delta=1e-12)
        self.assertEqual(b.grad, 0.8 * 0.8)  # b is in both graphs: only y's path counts
        self.assertEqual((a.grad, other.grad), (0.0, 0.0))

    def test_a_second_backward_starts_from_a_clean_tape(self):
        # One forward and backward after another, as in training: the second sees none of the first's graph
        x = Value(2.0)
        (x * x).backward()
        x.grad = 0.0
        y = x * 5.0
        y.backward()
        self.assertEqual(x.grad, 5.0)

    def test_a_value_shows_its_number_and_gradient(self):
        self.assertEqual(repr(Value(2.5)), 'Value(data=2.5, grad=0.0)')
        v = Value(-1.0)
        (v * 3).backward()
        self.assertEqual(repr(v), 'Value(data=-1.0, grad=3.0)')


if __name__ == '__main__':
    unittest.main()
