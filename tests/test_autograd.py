"""The autograd engine: every operation's value and gradient against central finite differences."""
import math, sys, unittest
from tests.helpers import model

m = model()
Value, vsum, dot = m.Value, m.vsum, m.dot
H, TOL = 1e-6, 1e-7  # the finite-difference step, and how close the analytic gradient must be


def log(x): return x.log() if isinstance(x, Value) else math.log(x)
def exp(x): return x.exp() if isinstance(x, Value) else math.exp(x)
def relu(x): return x.relu() if isinstance(x, Value) else max(0.0, x)
def total(xs): return vsum(xs) if isinstance(xs[0], Value) else sum(xs)
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
        ('a + 3', lambda a: a + 3, (1.5,)),
        ('3 + a', lambda a: 3 + a, (1.5,)),
        ('a - b', lambda a, b: a - b, (1.5, -2.0)),
        ('a - 3', lambda a: a - 3, (1.5,)),
        ('a * b', lambda a, b: a * b, (1.5, -2.0)),
        ('a * 3', lambda a: a * 3, (1.5,)),
        ('3 * a', lambda a: 3 * a, (1.5,)),
        ('a / b', lambda a, b: a / b, (1.5, -2.0)),
        ('a / 3', lambda a: a / 3, (1.5,)),
        ('a ** 3', lambda a: a ** 3, (1.5,)),
        ('a ** -0.5', lambda a: a ** -0.5, (1.5,)),
        ('log a', lambda a: log(a), (1.5,)),
        ('exp a', lambda a: exp(a), (-0.7,)),
        ('relu a, a > 0', lambda a: relu(a), (1.5,)),
        ('relu a, a < 0', lambda a: relu(a), (-1.5,)),
        ('vsum', lambda a, b, c: total([a, b, c]), (1.5, -2.0, 0.3)),
        ('dot', lambda a, b, c, d: inner([a, b], [c, d]), (1.5, -2.0, 0.3, 0.9)),
        ('dot(x, x)', lambda a, b: inner([a, b], [a, b]), (1.5, -2.0)),
        ('a used twice', lambda a, b: a * b + a, (1.5, -2.0)),
        ('composite', lambda a, b: relu(a * b + 1) * exp(a / b) - log(a * a), (0.8, 1.7)),
    ]

    def test_value_and_gradient_match_finite_differences(self):
        for name, f, point in self.CASES:
            with self.subTest(name):
                xs = [Value(x) for x in point]
                out = f(*xs)
                self.assertAlmostEqual(out.data, f(*point), delta=1e-12)
                out.backward()
                for i, x in enumerate(xs):
                    self.assertAlmostEqual(x.grad, numeric_grad(f, point, i), delta=TOL, msg=f'input {i}')

    def test_a_shared_node_passes_its_gradient_back_after_all_its_uses(self):
        a = Value(2.0)
        b = a * a  # used by two later nodes: backward must reach it once, after both have added to its grad
        out = b * 3 + b.exp()
        out.backward()
        self.assertAlmostEqual(a.grad, (3 + math.exp(4.0)) * 2 * 2.0, delta=1e-9)

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

    def test_a_value_shows_its_number_and_gradient(self):
        self.assertEqual(repr(Value(2.5)), 'Value(data=2.5, grad=0.0)')


if __name__ == '__main__':
    unittest.main()
