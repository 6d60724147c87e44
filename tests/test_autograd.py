"""The autograd engine: every operation's value and gradient against central finite differences."""
import math, sys, unittest
from tests.helpers import model

ns = model()
Value, vsum, dot = ns['Value'], ns['vsum'], ns['dot']
H, TOL = 1e-6, 1e-7  # finite-difference step, and how close the analytic gradient must be


def numeric_grad(f, xs, i):
    """d f / d xs[i] by central differences: (f(x + h) - f(x - h)) / 2h, on plain floats."""
    up, down = list(xs), list(xs)
    up[i] += H
    down[i] -= H
    return (f(*up) - f(*down)) / (2 * H)


class TestOperations(unittest.TestCase):
    # Each case: (name, the function built from Values, the same function on floats, input point)
    CASES = [
        ('a + b', lambda a, b: a + b, lambda a, b: a + b, (1.5, -2.0)),
        ('a + 3', lambda a: a + 3, lambda a: a + 3, (1.5,)),
        ('3 + a', lambda a: 3 + a, lambda a: 3 + a, (1.5,)),
        ('a - b', lambda a, b: a - b, lambda a, b: a - b, (1.5, -2.0)),
        ('a - 3', lambda a: a - 3, lambda a: a - 3, (1.5,)),
        ('3 - a', lambda a: 3 - a, lambda a: 3 - a, (1.5,)),
        ('a * b', lambda a, b: a * b, lambda a, b: a * b, (1.5, -2.0)),
        ('a * 3', lambda a: a * 3, lambda a: a * 3, (1.5,)),
        ('3 * a', lambda a: 3 * a, lambda a: 3 * a, (1.5,)),
        ('a / b', lambda a, b: a / b, lambda a, b: a / b, (1.5, -2.0)),
        ('a / 3', lambda a: a / 3, lambda a: a / 3, (1.5,)),
        ('3 / a', lambda a: 3 / a, lambda a: 3 / a, (1.5,)),
        ('-a', lambda a: -a, lambda a: -a, (1.5,)),
        ('a ** 3', lambda a: a ** 3, lambda a: a ** 3, (1.5,)),
        ('a ** -0.5', lambda a: a ** -0.5, lambda a: a ** -0.5, (1.5,)),
        ('log a', lambda a: a.log(), math.log, (1.5,)),
        ('exp a', lambda a: a.exp(), math.exp, (-0.7,)),
        ('relu a > 0', lambda a: a.relu(), lambda a: max(0.0, a), (1.5,)),
        ('relu a < 0', lambda a: a.relu(), lambda a: max(0.0, a), (-1.5,)),
        ('vsum', lambda a, b, c: vsum([a, b, c]), lambda a, b, c: a + b + c, (1.5, -2.0, 0.3)),
        ('dot', lambda a, b, c, d: dot([a, b], [c, d]), lambda a, b, c, d: a * c + b * d, (1.5, -2.0, 0.3, 0.9)),
        ('dot(x, x)', lambda a, b: dot([a, b], [a, b]), lambda a, b: a * a + b * b, (1.5, -2.0)),
        ('a used twice', lambda a, b: a * b + a, lambda a, b: a * b + a, (1.5, -2.0)),
        ('composite', lambda a, b: (a * b + 1).relu() * (a / b).exp() - (a * a).log(),
         lambda a, b: max(0.0, a * b + 1) * math.exp(a / b) - math.log(a * a), (0.8, 1.7)),
    ]

    def test_value_and_gradient_match_finite_differences(self):
        for name, on_values, on_floats, point in self.CASES:
            with self.subTest(name):
                xs = [Value(x) for x in point]
                out = on_values(*xs)
                self.assertAlmostEqual(out.data, on_floats(*point), delta=1e-12)
                out.backward()
                for i, x in enumerate(xs):
                    self.assertAlmostEqual(x.grad, numeric_grad(on_floats, point, i), delta=TOL, msg=f'input {i}')

    def test_numbers_are_not_wrapped_into_nodes(self):
        a = Value(2.0)
        for out in (a + 3, 3 + a, a * 3, 3 * a, a - 3, a / 3):
            self.assertEqual(out._children, (a,))

    def test_gradients_accumulate_over_every_use(self):
        a = Value(3.0)
        out = vsum([a, a, a * a])  # d/da (2a + a^2) = 2 + 2a = 8
        out.backward()
        self.assertEqual(a.grad, 8.0)

    def test_a_shared_subexpression_passes_its_gradient_back_once(self):
        a = Value(2.0)
        b = a * a          # used by two parents below; backward must visit it once, after both
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


if __name__ == '__main__':
    unittest.main()
