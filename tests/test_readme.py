"""The README's numbers that are cheap to recompute: the baseline ladder. Its recipe runs on names.txt, on
microgpt's own held-out names, and must print the numbers that the README's table gives."""
import contextlib, io, os, re, unittest
from tests.helpers import NAMES, ROOT, SOURCE, run

with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
    README = f.read()


class TestBaselineLadder(unittest.TestCase):
    def test_the_recipe_prints_the_numbers_of_the_table_on_the_500_held_out_names(self):
        recipe = next(block for block in re.findall(r'```python\n(.*?)```', README, re.S) if 'bigram' in block)
        table = {name: float(number) for name, number in
                 re.findall(r'^\| (uniform|unigram|bigram): .*\| (\d\.\d{4}) \|$', README, re.M)}
        self.assertEqual(set(table), {'uniform', 'unigram', 'bigram'})
        # names.txt set up as microgpt does it (the split and the tokenizer), and nothing after that
        m = run('--input', NAMES, source=SOURCE[:SOURCE.index('# Autograd')])[0]
        self.assertEqual(len(m.val_docs), 500)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(recipe, vars(m))
        printed = dict(re.findall(r'^(\w+) +(\d+(?:\.\d+)?)$', out.getvalue(), re.M))
        self.assertEqual(int(printed['predictions']), 3655)  # the 500 names, each cut to the block, with its end
        for name, number in table.items():
            with self.subTest(name):
                self.assertEqual(float(printed[name]), number)
        self.assertLess(table['bigram'], table['unigram'])
        self.assertLess(table['unigram'], table['uniform'])


if __name__ == '__main__':
    unittest.main()
